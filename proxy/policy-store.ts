// Holds the compiled policies.yaml in force. Loads it at start (an invalid file is a ConfigError: exit 78),
// then reloads on file change and SIGHUP: a reload compiles a new immutable table and swaps one reference;
// an invalid new file is refused with a log line and a metric, and the old policy stays.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load-config.js';
import { formatProblem, loadPolicyFile, type CompiledPolicy, type PolicyProblem } from '../core/policy/index.js';
import type { Metrics } from './metrics.js';
import type { AuditLog } from '../core/audit/audit-log.js';

export interface PolicyStoreOptions {
  readonly file: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Called with every policy that comes into force (the initial one included). */
  readonly onLoad?: (policy: CompiledPolicy) => void;
  /** Records policy.reloaded / policy.reload_failed (SPEC §8); a failed audit write is logged, the reload stands. */
  readonly audit?: AuditLog;
  /** Watch the file for changes (fs.watch on its directory plus a slow stat poll). */
  readonly watch?: boolean;
  /** Stat-poll fallback interval (ms); fs.watch misses changes on some network/overlay file systems. */
  readonly pollMs?: number;
  /** Debounce for bursts of change events (editors write in several steps). */
  readonly debounceMs?: number;
}

export type ReloadResult = { readonly ok: true; readonly routes: number } | { readonly ok: false; readonly problems: readonly PolicyProblem[] };

/** Compile the file at start-up; every error-severity problem becomes one ConfigError line. */
export async function loadInitialPolicy(file: string): Promise<CompiledPolicy> {
  const result = await loadPolicyFile(file);
  if (result.policy === undefined) {
    throw new ConfigError(result.problems.filter((p) => p.severity === 'error').map((p) => `policies: ${formatProblem(p, file)}`));
  }
  return result.policy;
}

export class PolicyStore {
  private policy: CompiledPolicy;
  private readonly file: string;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private lastStat = '';
  private reloading: Promise<ReloadResult> | undefined;
  private pending = false;
  private closed = false;

  constructor(
    initial: CompiledPolicy,
    private readonly options: PolicyStoreOptions,
  ) {
    this.policy = initial;
    this.file = resolve(options.file);
    options.onLoad?.(initial);
  }

  /** The policy in force. Read it once per request and keep the reference: a reload never mutates it. */
  get current(): CompiledPolicy {
    return this.policy;
  }

  /** Starts watching (no-op when watching is disabled). */
  async start(): Promise<void> {
    if (this.options.watch === false) return;
    this.lastStat = await this.statKey();
    // Watch the directory, not the file: Kubernetes ConfigMaps replace the file by swapping a `..data`
    // symlink, and editors save by rename — a watch on the old inode would never fire again.
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => this.options.logger.warn({ err, file: this.file }, 'policy watch failed; relying on the stat poll'));
    } catch (err) {
      this.options.logger.warn({ err, file: this.file }, 'cannot watch the policy directory; relying on the stat poll');
    }
    const pollMs = this.options.pollMs ?? 5000;
    this.pollTimer = setInterval(() => {
      void this.statKey().then((key) => {
        if (key !== this.lastStat) this.schedule();
      });
    }, pollMs);
    this.pollTimer.unref();
  }

  /** Re-reads and compiles the file; swaps the policy only when it is valid. Never throws. */
  reload(trigger = 'manual'): Promise<ReloadResult> {
    if (this.reloading !== undefined) {
      // A change arrived while compiling: run once more afterwards so the last write wins.
      this.pending = true;
      return this.reloading;
    }
    this.reloading = this.doReload(trigger).finally(() => {
      this.reloading = undefined;
      if (this.pending && !this.closed) {
        this.pending = false;
        void this.reload(trigger);
      }
    });
    return this.reloading;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.reload('watch'), this.options.debounceMs ?? 100);
    this.debounceTimer.unref();
  }

  private async doReload(trigger: string): Promise<ReloadResult> {
    const { logger, metrics } = this.options;
    this.lastStat = await this.statKey();
    const result = await loadPolicyFile(this.file);
    if (result.policy === undefined) {
      const problems = result.problems.filter((p) => p.severity === 'error');
      metrics.policyReloads.inc({ result: 'failure' });
      logger.error(
        { file: this.file, trigger, problems: problems.map((p) => formatProblem(p, basename(this.file))) },
        'policies.yaml reload refused: the file is invalid; the previous policy stays in force',
      );
      await this.audit({ action: 'policy.reload_failed', actor: 'system', outcome: 'failure', details: { trigger, file: basename(this.file), problems: problems.length } });
      return { ok: false, problems };
    }
    if (this.closed) return { ok: true, routes: result.policy.routes.length };
    this.policy = result.policy;
    this.options.onLoad?.(result.policy);
    metrics.policyReloads.inc({ result: 'success' });
    logger.info({ file: this.file, trigger, routes: result.policy.routes.length }, 'policies.yaml reloaded');
    await this.audit({ action: 'policy.reloaded', actor: 'system', outcome: 'success', details: { trigger, file: basename(this.file), routes: result.policy.routes.length } });
    return { ok: true, routes: result.policy.routes.length };
  }

  private async audit(event: Parameters<AuditLog['record']>[0]): Promise<void> {
    // reload() never throws; the audit log has already written the event as an error log line.
    await this.options.audit?.record(event).catch(() => undefined);
  }

  private async statKey(): Promise<string> {
    try {
      const s = await stat(this.file); // follows the ConfigMap symlink
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
