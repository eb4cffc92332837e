// Tests the production Dockerfile and .dockerignore without Docker: static checks of the stages and
// runtime settings, the build-context filter, and a replay of build + run as uid 10001 (scripts/replay-dockerfile.sh).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helm-harness.js';

// The replay runs two npm installs and a TypeScript build; the file's timeout has to cover them.
t.setTimeout(25 * 60_000);

interface Instruction {
  cmd: string;
  args: string;
  stage: string;
}

/** Splits the Dockerfile into instructions (continuations joined, comments dropped), each tagged with its stage. */
function parseDockerfile(text: string): { instructions: Instruction[]; stages: { name: string; image: string }[]; args: Record<string, string> } {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instructions: Instruction[] = [];
  const stages: { name: string; image: string }[] = [];
  const args: Record<string, string> = {};
  let stage = '';
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const cmd = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (cmd === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      stage = f[2] ?? String(stages.length);
      const ref = f[1]!.replace(/^\$\{?(\w+)\}?$/, (_, a: string) => args[a] ?? _);
      // `FROM toolchain AS build` builds on an earlier stage: report the base image underneath it.
      stages.push({ name: stage, image: stages.find((s) => s.name === ref)?.image ?? ref });
    }
    if (cmd === 'ARG' && stage === '') {
      const a = /^(\w+)=(\S+)$/.exec(rest);
      if (a) args[a[1]!] = a[2]!;
    }
    instructions.push({ cmd, args: rest, stage });
  }
  return { instructions, stages, args };
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
const { instructions, stages } = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!.name;
const inStage = (name: string, cmd: string) => instructions.filter((i) => i.stage === name && i.cmd === cmd);
const runs = (name: string) => inStage(name, 'RUN').map((i) => i.args).join('\n');
const execForm = (name: string): string[] | undefined => {
  const i = inStage(runtime, name).at(-1);
  try {
    return i ? (JSON.parse(i.args) as string[]) : undefined;
  } catch {
    return undefined;
  }
};

t.test('multi-stage with a pinned Node 20 base', async (t) => {
  t.ok(stages.length >= 3, `build, deps and runtime stages (found ${stages.map((s) => s.name).join(', ')})`);
  t.equal(runtime, 'runtime', 'the final stage is the runtime');
  for (const s of stages) {
    t.match(s.image, /^node:20\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/, `stage ${s.name} uses a Node 20 base pinned to a patch version`);
  }
});

t.test('build stage: all dependencies and the TypeScript build; deps stage: production dependencies with a compiler', async (t) => {
  const build = stages.find((s) => /npm run build/.test(runs(s.name)));
  t.ok(build, 'a stage runs npm run build');
  if (build) t.match(runs(build.name), /npm ci(?! --omit)/, 'after a full npm ci');
  const deps = stages.find((s) => /npm ci --omit=dev/.test(runs(s.name)));
  t.ok(deps, 'a stage runs npm ci --omit=dev');
  const toolchainStages = stages.filter((s) => /apt-get install[^\n]*python3[^\n]*make[^\n]*g\+\+/.test(runs(s.name))).map((s) => s.name);
  t.ok(toolchainStages.length > 0, 'python3, make and g++ are installed for node-gyp (sqlite3 builds from source)');
  t.notMatch(runs(runtime), /apt-get|g\+\+|npm (ci|install)/, 'the runtime stage installs nothing and compiles nothing');
  t.not(stages.find((s) => s.name === runtime)?.image, undefined);
  t.notOk(toolchainStages.includes(runtime), 'the compiler never reaches the runtime image');
});

t.test('runtime stage copies only production artefacts', async (t) => {
  const copies = inStage(runtime, 'COPY').map((i) => i.args.replace(/--chown=\S+\s*/, ''));
  t.notOk(copies.some((c) => /^\.\s+\.\/?$/.test(c)), 'no COPY . . into the runtime stage');
  const sources = copies.flatMap((c) => {
    const parts = c.split(/\s+/);
    const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : 'context';
    return parts.slice(0, -1).map((src) => `${from}:${src}`);
  });
  const deps = stages.find((s) => /npm ci --omit=dev/.test(runs(s.name)))?.name;
  const build = stages.find((s) => /npm run build/.test(runs(s.name)))?.name;
  t.same(sources.sort(), [
    `${build}:/app/dist`,
    'context:bin',
    'context:package-lock.json',
    'context:package.json',
    'context:policies.yaml',
    `${deps}:/app/node_modules`,
  ].sort());
});

t.test('a COPY . . anywhere is covered by a .dockerignore that keeps out .git and secrets', async (t) => {
  const copiesAll = instructions.some((i) => i.cmd === 'COPY' && /^(--\S+\s+)*\.\s+\.\/?$/.test(i.args));
  const rules = dockerignore.split(/\r?\n/).map((l) => l.trim());
  if (copiesAll) {
    for (const needed of ['.git', '**/.env', '**/.env.*', 'node_modules', 'dist']) t.ok(rules.includes(needed), `.dockerignore has ${needed}`);
  }
  t.match(dockerignore, /^\S.*\n/, '.dockerignore opens with a comment line');
});

t.test('runtime: non-root user, exec-form entrypoint, healthcheck, writable paths under /data', async (t) => {
  const users = inStage(runtime, 'USER').map((i) => i.args);
  t.equal(users.at(-1), '10001:10001', 'runs as uid/gid 10001');
  const lastUser = instructions.lastIndexOf(inStage(runtime, 'USER').at(-1)!);
  const lastRun = instructions.lastIndexOf(inStage(runtime, 'RUN').at(-1)!);
  t.ok(lastUser > lastRun, 'USER comes after the last RUN, so the image runs unprivileged');
  t.match(runs(runtime), /useradd [^\n]*--uid 10001/);

  t.same(execForm('ENTRYPOINT'), ['node', 'bin/authgate.js'], 'exec-form ENTRYPOINT (node is PID 1 and gets SIGTERM)');
  t.same(execForm('CMD'), ['serve']);

  const hc = inStage(runtime, 'HEALTHCHECK').at(-1)?.args ?? '';
  const hcCmd = /CMD\s+(\[.*\])$/.exec(hc);
  t.ok(hcCmd, 'HEALTHCHECK uses an exec-form CMD');
  const argv = hcCmd ? (JSON.parse(hcCmd[1]!) as string[]) : [];
  t.equal(argv[0], 'node', 'probed with node (slim has no curl)');
  t.match(argv.join(' '), /\/healthz/);

  const env = inStage(runtime, 'ENV').map((i) => i.args).join(' ');
  t.match(env, /NODE_ENV=production/);
  t.match(env, /DATABASE_URL=sqlite:\/data\/\S+/);
  t.match(env, /AUTHGATE_MAIL_OUTBOX_DIR=\/data\/\S+/);
  t.match(inStage(runtime, 'VOLUME').map((i) => i.args).join(' '), /\/data/);
  t.match(runs(runtime), /ln -s \/app\/bin\/authctl\.js \/usr\/local\/bin\/authctl/, 'authctl is on PATH');
  t.notMatch(dockerfile, /^\s*(ENV|ARG)\s+[^\n]*(PASSWORD|SECRET|TOKEN)\s*=/im, 'no secret baked into ENV/ARG');
});

t.test('the build context filter honours .dockerignore', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-context-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = ['.env', '.env.production', 'config/.env.local', 'certs/server.pem', 'src/app.ts', 'bin/authgate.js', 'package.json',
    'node_modules/x/index.js', 'dist/proxy/main.js', 'data/authgate.sqlite', 'test/a.test.ts', 'helm/authgate/Chart.yaml', 'debug.log', 'policies.yaml'];
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
  cpSync(join(repoRoot, '.dockerignore'), join(dir, '.dockerignore'));
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(repoRoot, 'scripts', 'replay-dockerfile.sh'), join(dir, 'scripts', 'replay-dockerfile.sh'));
  const git = (...args: string[]) => spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  t.equal(git('init', '-q').status, 0);
  t.equal(git('add', '-A').status, 0);
  const r = spawnSync('bash', ['scripts/replay-dockerfile.sh', '--list-context'], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const listed = r.stdout.trim().split('\n').sort();
  t.same(listed, ['bin/authgate.js', 'package.json', 'policies.yaml', 'scripts/replay-dockerfile.sh', 'src/app.ts']);

  const real = spawnSync('bash', [join(repoRoot, 'scripts', 'replay-dockerfile.sh'), '--list-context'], { encoding: 'utf8' });
  t.equal(real.status, 0, real.stderr);
  const ctx = real.stdout.trim().split('\n');
  t.ok(ctx.includes('bin/authgate.js') && ctx.includes('package.json'), 'the real context has the sources');
  t.notOk(ctx.some((f) => /^(\.git\/|node_modules\/|dist\/|data\/|\.cache\/)|(^|\/)\.env/.test(f)), 'and no .git, .env, node_modules, dist, data or .cache');
});

/** Why the replay cannot run here, or undefined when it can. */
function replaySkipReason(): string | undefined {
  if (!existsSync(join(repoRoot, 'dist', 'proxy', 'main.js'))) return 'dist/proxy/main.js is missing: run `npm run build` once the server exists';
  if (spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).status !== 0) return 'setpriv is not available to drop to uid 10001';
  if (process.getuid?.() !== 0) return 'dropping to uid 10001 needs root';
  if (process.env.DEPLOY_TEST_SKIP_REPLAY === '1') return 'DEPLOY_TEST_SKIP_REPLAY=1';
  return undefined;
}

t.test('replay of the image: build, run as uid 10001 on a read-only app dir, probe it', { skip: replaySkipReason() ?? false }, async (t) => {
  // prune: the runtime deps come from the build stage's node_modules (faster than a second npm ci).
  const r = spawnSync('bash', [join(repoRoot, 'scripts', 'replay-dockerfile.sh')], {
    encoding: 'utf8',
    env: { ...process.env, REPLAY_RUNTIME_INSTALL: process.env.REPLAY_RUNTIME_INSTALL ?? 'prune' },
    timeout: 24 * 60_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  t.equal(r.status, 0, 'replay-dockerfile.sh succeeds');
  if (r.status !== 0) t.comment(out);
  t.match(out, /^ok {3}GET \/healthz 200$/m);
  t.match(out, /^ok {3}GET \/readyz 200$/m);
  t.match(out, /^ok {3}\S+ \/api\/\S* without a token 401$/m);
  t.match(out, /^ok {3}the app dir is read-only to the unprivileged user$/m);
  t.match(out, /^ok {3}Dockerfile HEALTHCHECK command exits 0/m);
  t.notMatch(out, /^FAIL /m);
});
