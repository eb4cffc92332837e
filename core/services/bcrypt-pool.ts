// bcrypt on a small pool of worker threads running at a lower CPU priority (nice +5, Linux per-thread).
// A login storm then uses the CPU the proxy leaves idle instead of competing with it as equals: with the
// libuv pool, 4 bcrypt threads on 2 cores pushed proxied p99 up 5× (issue 9; docs/benchmarks.md).
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** CommonJS source of one worker: synchronous bcrypt on its own (niced) thread, one job at a time. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const bcrypt = require(workerData.bcryptPath);
// pid 0 = the calling thread on Linux (nice is per thread there); elsewhere this may lower the process: skip.
if (process.platform === 'linux') { try { os.setPriority(0, workerData.nice); } catch {} }
parentPort.on('message', (job) => {
  try {
    const result = job.op === 'compare' ? bcrypt.compareSync(job.a, job.b) : bcrypt.hashSync(job.a, job.b);
    parentPort.postMessage({ id: job.id, result });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: String((err && err.message) || err) });
  }
});
`;

interface Job {
  readonly id: number;
  readonly op: 'compare' | 'hash';
  readonly a: string;
  readonly b: string | number;
  readonly resolve: (value: boolean | string) => void;
  readonly reject: (err: Error) => void;
}

interface Reply {
  id: number;
  result?: boolean | string;
  error?: string;
}

class Lane {
  job: Job | null = null;
  constructor(readonly worker: Worker) {}
}

export interface BcryptPoolOptions {
  /** Worker threads (default: the number of CPUs available). */
  size?: number;
  /**
   * Nice value of the worker threads (default 5; 0 keeps normal priority). +5 (CFS weight 335 vs 1024)
   * kept p99 under a login storm and logins at raw bcrypt speed; +10 (weight 110) also lost logins to the
   * database and the event loop's own login work (logins/bcrypt 0.83; docs/benchmarks.md).
   */
  nice?: number;
  /** Idle workers are stopped after this long (default 30 s) and restarted on demand. */
  idleMs?: number;
}

export class BcryptPool {
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  private readonly nice: number;
  private readonly idleMs: number;
  private readonly bcryptPath = createRequire(import.meta.url).resolve('bcrypt');
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(options: BcryptPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.nice = options.nice ?? 5;
    this.idleMs = options.idleMs ?? 30_000;
  }

  compare(password: string, hash: string): Promise<boolean> {
    return this.submit('compare', password, hash) as Promise<boolean>;
  }

  hash(password: string, cost: number): Promise<string> {
    return this.submit('hash', password, cost) as Promise<string>;
  }

  /** Stops every worker; jobs still queued are rejected. */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const job of this.queue.splice(0)) job.reject(new Error('bcrypt pool closed'));
    await Promise.all(this.lanes.splice(0).map((l) => l.worker.terminate()));
  }

  private submit(op: Job['op'], a: string, b: string | number): Promise<boolean | string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, op, a, b, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    while (this.queue.length > 0) {
      let lane = this.lanes.find((l) => l.job === null);
      if (lane === undefined) {
        if (this.lanes.length >= this.size) return;
        lane = this.spawn();
      }
      const job = this.queue.shift() as Job;
      lane.job = job;
      lane.worker.ref();
      lane.worker.postMessage({ id: job.id, op: job.op, a: job.a, b: job.b });
    }
  }

  private spawn(): Lane {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath: this.bcryptPath, nice: this.nice } });
    const lane = new Lane(worker);
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const job = lane.job;
      lane.job = null;
      worker.unref();
      if (job !== null && job.id === reply.id) {
        if (reply.error !== undefined) job.reject(new Error(reply.error));
        else job.resolve(reply.result as boolean | string);
      }
      this.pump();
      this.scheduleIdleStop();
    });
    const fail = (err: Error) => {
      const i = this.lanes.indexOf(lane);
      if (i !== -1) this.lanes.splice(i, 1);
      const job = lane.job;
      lane.job = null;
      job?.reject(err);
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`bcrypt worker exited (${code})`)));
    this.lanes.push(lane);
    return lane;
  }

  private scheduleIdleStop(): void {
    if (this.queue.length > 0 || this.lanes.some((l) => l.job !== null) || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.queue.length > 0 || this.lanes.some((l) => l.job !== null)) return;
      for (const l of this.lanes.splice(0)) void l.worker.terminate();
    }, this.idleMs);
    this.idleTimer.unref();
  }
}
