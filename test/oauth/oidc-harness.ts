// Shared setup for the OIDC tests: authgate on a port chosen up front (so PUBLIC_URL, the issuer, is the
// server's real URL), a policy with a `login: redirect` route, a tiny cookie jar, and the real login form
// driven over HTTP (GET authorize → login page → POST credentials → back to authorize → redirect_uri).
import { request } from 'undici';
import type { TestApp, TestAppOptions } from '../helpers/app.js';
import { startTestApp } from '../helpers/app.js';
import { freePort } from '../helpers/processes.js';

export { freePort } from '../helpers/processes.js';

export const OIDC_POLICY = (upstream: string) => `
version: 1
upstreams:
  app: ${upstream}
roles:
  user: { permissions: [profile:read] }
  admin: { permissions: ["*"] }
default: deny
routes:
  - name: web
    match: { path: "/app/**" }
    upstream: app
    access: authenticated
    login: redirect
  - name: api
    match: { path: "/api/**" }
    upstream: app
    access: authenticated
`;


/** authgate on 127.0.0.1:<free port> with PUBLIC_URL = that URL (retries if the port was taken meanwhile). */
export async function startOidcApp(options: TestAppOptions = {}): Promise<TestApp> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    // With TEST_REDIS_URL the revocation bus and rate limits run on Redis (own channel/prefix per app).
    const redisUrl = process.env.TEST_REDIS_URL;
    const unique = `oidc-test-${port}-${Date.now().toString(36)}`;
    const redis: Record<string, Record<string, unknown>> = redisUrl ? { redis: { url: redisUrl, revocation_channel: unique, rate_limit_prefix: unique } } : {};
    try {
      return await startTestApp({
        policy: OIDC_POLICY,
        ...options,
        config: { ...redis, ...(options.config ?? {}), server: { port, public_url: `http://127.0.0.1:${port}`, ...(options.config?.server ?? {}) } },
      });
    } catch (err) {
      if (attempt >= 3 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

/** Cookies by name, fed from Set-Cookie headers (Max-Age=0 deletes). */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  location: string | undefined;
}

/** One request with the jar's cookies; stores the answer's cookies. Never follows redirects. */
export async function send(
  url: string,
  jar: CookieJar,
  options: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { accept: 'text/html', ...(options.headers ?? {}) };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const res = await request(url, { method: (options.method ?? (options.form ? 'POST' : 'GET')) as 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  jar.store(res.headers['set-cookie']);
  const location = res.headers.location;
  return { status: res.statusCode, headers: res.headers, text, location: typeof location === 'string' ? location : undefined };
}

/** The value of a hidden input in the page. */
export function hiddenField(html: string, name: string): string | undefined {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>') : undefined;
}

/** Submits the login form found at `loginUrl`; returns the POST's response (303 on success). */
export async function submitLogin(base: string, loginUrl: string, jar: CookieJar, email: string, password: string, overrides: Record<string, string> = {}): Promise<RawResponse> {
  const page = await send(new URL(loginUrl, base).toString(), jar);
  if (page.status !== 200) throw new Error(`login page: ${page.status}`);
  const form: Record<string, string> = {
    csrf_token: hiddenField(page.text, 'csrf_token') ?? '',
    return_to: hiddenField(page.text, 'return_to') ?? '',
    email,
    password,
  };
  const tenant = hiddenField(page.text, 'tenant');
  if (tenant) form.tenant = tenant;
  return send(`${base}/oauth2/login`, jar, { form: { ...form, ...overrides } });
}

/**
 * Drives the authorization request through the real login form; returns the final redirect to the client
 * (its redirect_uri with code or error). Follows only authgate's own redirects.
 */
export async function authorizeThroughLogin(base: string, authorizationUrl: URL, jar: CookieJar, email: string, password: string): Promise<URL> {
  let res = await send(authorizationUrl.toString(), jar);
  for (let hops = 0; hops < 6; hops++) {
    if (res.status !== 302 && res.status !== 303) throw new Error(`unexpected ${res.status}: ${res.text.slice(0, 300)}`);
    const next = new URL(res.location!, base);
    if (next.origin !== new URL(base).origin) return next;
    if (next.pathname === '/oauth2/login') res = await submitLogin(base, next.toString(), jar, email, password);
    else res = await send(next.toString(), jar);
  }
  throw new Error('too many redirects');
}
