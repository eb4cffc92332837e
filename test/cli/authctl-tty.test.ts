// authctl on a real terminal (a pseudo-terminal from util-linux `script`): the password prompt does not
// echo what is typed and the password never appears in the output; `user delete` asks for confirmation
// and only "y" erases.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { http, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

const SECRET = 'Quiet-Lantern-Passphrase-91';
const canRun = existsSync('/usr/bin/script') && existsSync('dist/cli/main.js');

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs authctl under a pty, answering each prompt (matched in the output) with a line. */
function onTerminal(args: string[], answers: Array<[RegExp, string]>, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const command = ['node', 'bin/authctl.js', ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const pending = [...answers];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    const next = pending[0];
    if (next && next[0].test(output)) {
      pending.shift();
      // Answer only once the prompt is on screen, so the terminal is already in no-echo mode.
      setTimeout(() => child.stdin.write(`${next[1]}\r`), 50);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

t.test('interactive password prompt and delete confirmation', { skip: !canRun && 'needs /usr/bin/script and a built dist/' }, async (t) => {
  const db = await createTestDatabase('tty');
  t.teardown(() => db.drop());
  const env = { DATABASE_URL: db.url, BCRYPT_COST: '4', LOG_LEVEL: 'silent' };
  const migrate = spawnSync(process.execPath, ['bin/authctl.js', 'migrate'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  t.equal(migrate.status, 0, migrate.stderr);

  const created = await onTerminal(
    ['user', 'create', '--email', 'tty@example.com', '--username', 'ttyuser'],
    [
      [/Password/, SECRET],
      [/Repeat password/, SECRET],
    ],
    env,
  );
  t.equal(created.code, 0, created.output);
  t.notMatch(created.output, SECRET, 'the typed password is never echoed or printed');
  t.match(created.output, /tty@example\.com/);

  const app = await startTestApp({ databaseUrl: db.url });
  t.teardown(() => app.close());
  const login = await http(app.url, 'POST', '/auth/login', { json: { email: 'tty@example.com', password: SECRET } });
  t.equal(login.status, 200, 'the prompted password is the account password');

  const refused = await onTerminal(['user', 'delete', 'tty@example.com'], [[/\[y\/N\]/, 'n']], env);
  t.equal(refused.code, 2, 'answering no aborts with exit 2');
  const stillThere = spawnSync(process.execPath, ['bin/authctl.js', 'user', 'show', 'tty@example.com'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  t.equal(stillThere.status, 0, 'nothing was deleted');

  const accepted = await onTerminal(['user', 'delete', 'tty@example.com'], [[/\[y\/N\]/, 'y']], env);
  t.equal(accepted.code, 0, accepted.output);
  const gone = spawnSync(process.execPath, ['bin/authctl.js', 'user', 'show', 'tty@example.com'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  t.equal(gone.status, 3, 'erased: not found');
});
