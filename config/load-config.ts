// Loads configuration: YAML file, then AUTHGATE_<SECTION>_<KEY> and the SPEC §2 short env names,
// then explicit overrides; validates once, reports every problem at once, returns a deep-frozen Config.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, SHORT_ENV, type Config } from './config.schema.js';

export const EX_CONFIG = 78;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Path to authgate.yaml; falls back to AUTHGATE_CONFIG. */
  file?: string;
  /** The environment to read (defaults to process.env; tests pass their own). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Highest-precedence values, as section → key → value (CLI flags, tests). */
  overrides?: Record<string, Record<string, unknown>>;
}

type Tree = Record<string, Record<string, unknown>>;

const SECTIONS = Object.keys(configSchema.shape);

function setKey(tree: Tree, section: string, key: string, value: unknown): void {
  const s = (tree[section] ??= {});
  s[key] = value;
}

function readFile(file: string, problems: string[]): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`config file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  try {
    const doc: unknown = parseYaml(text);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      problems.push(`config file ${file}: must be a mapping of sections`);
      return {};
    }
    return doc as Tree;
  } catch (err) {
    problems.push(`config file ${file}: invalid YAML (${(err as Error).message.split('\n')[0]})`);
    return {};
  }
}

/** Collects environment overrides; unknown AUTHGATE_* keys are reported, not ignored. */
function readEnv(env: Readonly<Record<string, string | undefined>>, tree: Tree, problems: string[]): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.startsWith('AUTHGATE_') && name !== 'AUTHGATE_CONFIG') {
      const rest = name.slice('AUTHGATE_'.length).toLowerCase();
      const section = SECTIONS.find((s) => rest.startsWith(`${s}_`));
      if (!section) {
        problems.push(`${name}: unknown configuration section`);
        continue;
      }
      setKey(tree, section, rest.slice(section.length + 1), value);
    }
  }
  // Short names win over the long form only when the long form is absent.
  for (const [name, [section, key]] of Object.entries(SHORT_ENV)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const long = `AUTHGATE_${section}_${key}`.toUpperCase();
    if (env[long] === undefined) setKey(tree, section, key, value);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

function envNameFor(section: string, key: string): string {
  const short = Object.entries(SHORT_ENV).find(([, [s, k]]) => s === section && k === key);
  return short ? short[0] : `AUTHGATE_${section}_${key}`.toUpperCase();
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const file = options.file ?? env.AUTHGATE_CONFIG;
  const tree: Tree = file ? readFile(file, problems) : {};
  for (const [section, value] of Object.entries(tree)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (SECTIONS.includes(section)) problems.push(`${section}: must be a mapping`);
      tree[section] = {};
    }
  }
  readEnv(env, tree, problems);
  for (const [section, values] of Object.entries(options.overrides ?? {})) {
    for (const [key, value] of Object.entries(values)) if (value !== undefined) setKey(tree, section, key, value);
  }

  const result = configSchema.safeParse(tree);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const [section, key] = issue.path.map(String);
      let where = issue.path.join('.');
      if (section && key) where = `${where} (${envNameFor(section, key)})`;
      if (issue.code === 'unrecognized_keys') {
        const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
        for (const k of issue.keys) problems.push(`${prefix}${k}: unknown configuration key`);
        continue;
      }
      problems.push(`${where}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  const parsed = result.data;
  const port = parsed.server.port;
  const publicUrl = (parsed.server.public_url ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const config = {
    ...parsed,
    server: { ...parsed.server, public_url: publicUrl },
    tokens: { ...parsed.tokens, issuer: parsed.tokens.issuer ?? publicUrl },
  };
  const crossProblems: string[] = [];
  if (config.tokens.refresh_idle_ttl > config.tokens.session_max_age)
    crossProblems.push('tokens.refresh_idle_ttl (REFRESH_IDLE_TTL): must not exceed tokens.session_max_age (SESSION_MAX_AGE)');
  if (config.tokens.access_ttl < 1000) crossProblems.push('tokens.access_ttl (ACCESS_TOKEN_TTL): must be at least 1s');
  if (crossProblems.length) throw new ConfigError(crossProblems);
  return deepFreeze(config) as Config;
}
