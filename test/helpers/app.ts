// Starts a real authgate server on 127.0.0.1:0 with a fresh database, a recording echo upstream and a
// generated policies.yaml pointing at it. Tests talk to it over real HTTP with undici.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../../config/load-config.js';
import type { Config } from '../../config/config.schema.js';
import { startApp, type App, type StartOptions } from '../../proxy/app.js';
import { startEchoUpstream, type EchoUpstream } from '../../proxy/demo/demo-upstream.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { createLogger } from '../../core/logger.js';

export const DEFAULT_TEST_POLICY = (upstream: string) => `
version: 1
upstreams:
  app: ${upstream}
roles:
  user: { permissions: [profile:read] }
  viewer: { permissions: [orders:read] }
  editor: { inherits: [viewer], permissions: [orders:write] }
  admin: { permissions: ["*"] }
default: deny
routes:
  - name: health
    match: { methods: [GET], path: /health }
    upstream: app
    access: public
  - name: public
    match: { path: "/public/**" }
    upstream: app
    access: public
  - name: orders-read
    match: { methods: [GET, HEAD], path: "/api/orders/**" }
    upstream: app
    require: { any_role: [viewer, editor, admin], permissions: [orders:read] }
  - name: orders-write
    match: { methods: [POST, PUT, DELETE], path: "/api/orders/**" }
    upstream: app
    require: { permissions: [orders:write] }
  - name: tenant-data
    match: { path: "/t/:tenant/**" }
    upstream: app
    require: { tenant_param: tenant }
  - name: api
    match: { path: "/api/**" }
    upstream: app
    access: authenticated
  - name: blocked
    match: { path: "/admin-ui/**" }
    access: deny
`;

export interface TestApp {
  app: App;
  url: string;
  config: Config;
  upstream: EchoUpstream;
  db: TestDatabase;
  policyFile: string;
  dir: string;
  close(): Promise<void>;
}

export interface TestAppOptions extends StartOptions {
  /** Extra config as section → key → value. */
  config?: Record<string, Record<string, unknown>>;
  /** policies.yaml text; receives the upstream URL. */
  policy?: (upstreamUrl: string) => string;
  /** Reuse an existing database (two instances sharing one). */
  databaseUrl?: string;
  /** Environment variables to feed the config loader (default: none, so the host env never leaks in). */
  env?: Record<string, string>;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const upstream = await startEchoUpstream();
  const db: TestDatabase = options.databaseUrl
    ? { url: options.databaseUrl, dialect: options.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres', drop: async () => undefined }
    : await createTestDatabase('app');
  const dir = mkdtempSync(join(tmpdir(), 'authgate-app-'));
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(policyFile, (options.policy ?? DEFAULT_TEST_POLICY)(upstream.url));
  const overrides: Record<string, Record<string, unknown>> = {
    server: { port: 0, host: '127.0.0.1', public_url: 'http://authgate.test', drain_timeout: '2s' },
    database: { url: db.url },
    security: { bcrypt_cost: 4 },
    mail: { outbox_dir: join(dir, 'outbox') },
    policies: { file: policyFile },
    log: { level: process.env.TEST_LOG_LEVEL ?? 'silent' },
  };
  for (const [section, values] of Object.entries(options.config ?? {})) overrides[section] = { ...overrides[section], ...values };
  const config = loadConfig({ env: options.env ?? {}, overrides });
  const { config: _c, policy: _p, databaseUrl: _d, env: _e, ...startOptions } = options;
  const app = await startApp(config, { migrate: true, logger: createLogger(config.log.level), ...startOptions });
  return {
    app,
    url: app.url,
    config,
    upstream,
    db,
    policyFile,
    dir,
    async close() {
      await app.close();
      await upstream.close();
      if (!options.databaseUrl) await db.drop();
    },
  };
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/** Sends a request and parses a JSON (or problem+json) body when there is one. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: { json?: unknown; token?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await request(`${base}${path}`, { method: method as 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  let parsed: unknown = undefined;
  if (text && /json/.test(String(res.headers['content-type'] ?? ''))) parsed = JSON.parse(text);
  return { status: res.statusCode, headers: res.headers, body: parsed as T, text };
}

export const PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${Date.now().toString(36)}@example.com`;
}

/** Registers and logs in a user; returns its tokens and id. */
export async function registerAndLogin(base: string, options: { email?: string; username?: string; tenant?: string; password?: string } = {}) {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? PASSWORD;
  const username = options.username ?? email.split('@')[0]!.replace(/[^a-z0-9]/gi, '').slice(0, 30);
  const reg = await http(base, 'POST', '/auth/register', { json: { email, username, password, ...(options.tenant ? { tenant: options.tenant } : {}) } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const login = await http(base, 'POST', '/auth/login', { json: { email, password, ...(options.tenant ? { tenant: options.tenant } : {}) } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { email, password, userId: reg.body.user.id as string, access: login.body.access_token as string, refresh: login.body.refresh_token as string };
}

/** Gives a user roles directly through the repository (tests only), then logs in again for a fresh token. */
export async function loginWithRoles(t: TestApp, roles: string[], options: { tenant?: string } = {}) {
  const user = await registerAndLogin(t.url, options);
  const core = t.app.context.core;
  const tenant = await core.tenants.resolve(options.tenant);
  await core.repos.users.update(tenant.id, user.userId, { roles }, new Date());
  const login = await http(t.url, 'POST', '/auth/login', { json: { email: user.email, password: user.password, ...(options.tenant ? { tenant: options.tenant } : {}) } });
  return { ...user, access: login.body.access_token as string, refresh: login.body.refresh_token as string };
}
