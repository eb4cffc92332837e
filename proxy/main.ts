// `authgate` command line: `authgate serve [--config FILE] [--no-migrate] [--demo]`. Invalid
// configuration prints one line per problem and exits 78 (EX_CONFIG).
import { Command } from 'commander';
import { ConfigError, EX_CONFIG, loadConfig } from '../config/load-config.js';
import { startApp, type App } from './app.js';
import { startEchoUpstream, type EchoUpstream } from './demo/demo-upstream.js';

interface ServeOptions {
  config?: string;
  migrate: boolean;
  demo?: boolean;
}

async function serve(options: ServeOptions): Promise<void> {
  let config;
  try {
    config = loadConfig({ ...(options.config ? { file: options.config } : {}), overrides: options.demo ? { server: { demo: true } } : {} });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`config: ${p}\n`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }
  let demo: EchoUpstream | undefined;
  if (config.server.demo) demo = await startEchoUpstream(config.server.demo_port);
  let app: App;
  try {
    app = await startApp(config, { migrate: options.migrate });
  } catch (err) {
    await demo?.close();
    if (err instanceof ConfigError) {
      // e.g. an invalid policies.yaml: same contract as an invalid config (one line per problem, 78).
      for (const p of err.problems) process.stderr.write(`config: ${p}\n`);
      process.exit(EX_CONFIG);
    }
    process.stderr.write(`authgate: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = app.context.core.logger;
  log.info({ url: app.url, database: config.database.url.replace(/\/\/[^@]*@/, '//***@') }, 'authgate listening');
  if (demo) {
    const base = config.server.public_url;
    process.stdout.write(
      [
        '',
        `authgate is running at ${base} (demo upstream on ${demo.url})`,
        '',
        `  Public route:      curl ${base}/health`,
        `  Protected route:   curl ${base}/api/orders/1        (401 without a token)`,
        `  Register:          curl -X POST ${base}/auth/register -H 'content-type: application/json' \\`,
        `                       -d '{"email":"alice@example.com","username":"alice","password":"correct horse battery"}'`,
        `  Log in:            curl -X POST ${base}/auth/login -H 'content-type: application/json' \\`,
        `                       -d '{"email":"alice@example.com","password":"correct horse battery"}'`,
        `  Call with token:   curl ${base}/api/me -H "authorization: Bearer $ACCESS_TOKEN"`,
        `  JWKS:              ${base}/.well-known/jwks.json`,
        `  Health / metrics:  ${base}/healthz  ${base}/readyz  ${base}/metrics`,
        '',
      ].join('\n') + '\n',
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    void app
      .close()
      .then(() => demo?.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // SIGHUP: re-read policies.yaml now (an invalid file is refused; the old policy stays).
  process.on('SIGHUP', () => void app.context.policies.reload('SIGHUP'));
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('authgate').description('Authentication sidecar and reverse proxy').showHelpAfterError();
  program
    .command('serve')
    .description('Run the server (applies pending migrations first unless --no-migrate)')
    .option('-c, --config <file>', 'path to authgate.yaml (or AUTHGATE_CONFIG)')
    .option('--no-migrate', 'do not apply migrations at start (the Helm chart runs `authctl migrate` as a Job)')
    .option('--demo', 'also start the bundled demo upstream (echoes received headers)')
    .action(serve);
  program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  await program.parseAsync(argv);
}
