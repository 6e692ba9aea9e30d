import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SandboxError } from '../../errors/sandbox-error.js';
import type { JobContext } from '../job-context.js';
import { ProcessHost } from './process-host.js';
import { runInSandbox } from './run-in-sandbox.js';
import type { SandboxHost, SandboxKind } from './sandbox-host.js';
import { ThreadHost } from './thread-host.js';

export interface SandboxPoolOptions {
  kind: SandboxKind;
  /** The compiled `sandbox-child.js` (see `sandboxEntry()`). */
  entry: URL;
  /** Sandboxes kept started and idle, so that a run finds one warm (refilled after each use or crash). */
  minIdle: number;
  /** Idle sandboxes kept at most; one more that finishes a run is ended. */
  maxIdle: number;
  /** Sandboxes at most (idle and running); a run that finds none free waits for one. */
  maxSize: number;
  /** After an abort (other than lease loss), how long a handler may take to end before it is killed. */
  abortGraceMs: number;
  /** Milliseconds left of the worker's lease: an abort's grace never runs past it. @default unbounded */
  leaseRemainingMs?: () => number;
  log: Logger;
  /** Heap limits of each thread (a handler past them fails its attempt; the thread is replaced). */
  resourceLimits?: ResourceLimits;
}

/**
 * A warm pool of sandboxes of one kind (worker threads or child processes). Each run takes an
 * idle one (or starts one when none is idle, up to `maxSize`, else waits for one) and has it alone; a sandbox that crashed or was
 * killed is dropped and replaced, a healthy one goes back to the pool.
 */
export class SandboxPool {
  private readonly idle: SandboxHost[] = [];
  private readonly busy = new Set<SandboxHost>();
  private readonly all = new Set<SandboxHost>();
  /** Runs waiting for a sandbox (all `maxSize` busy), oldest first. */
  private readonly waiting: Array<{ take: (host: SandboxHost) => void; fail: (err: unknown) => void }> = [];
  private runIds = 0;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: SandboxPoolOptions) {}

  get kind(): SandboxKind {
    return this.opts.kind;
  }

  /** Sandboxes started now (idle and running). */
  get size(): number {
    return this.all.size;
  }

  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** Starts the warm sandboxes. */
  start(): void {
    if (this.state !== 'latent') return;
    this.state = 'started';
    this.refill();
  }

  /** Runs one attempt of the handler module `file` (absolute path) with `ctx`; see `runInSandbox`. */
  async run(file: string, ctx: JobContext): Promise<void> {
    if (this.state === 'closed') throw new SandboxError('SANDBOX_CLOSED', `sandbox ${this.kind} pool is closed`);
    this.start();
    const host = await this.acquire(ctx.signal);
    this.busy.add(host);
    host.setRef(true);
    try {
      try {
        await host.ready;
      } catch (err) {
        throw new SandboxError('SANDBOX_CRASHED', (err as Error).message, { cause: err });
      }
      return await runInSandbox(host, ctx, { id: ++this.runIds, file, logLevel: ctx.log.level, abortGraceMs: this.opts.abortGraceMs, leaseRemainingMs: this.opts.leaseRemainingMs });
    } catch (err) {
      if (this.closed && err instanceof SandboxError) throw new SandboxError('SANDBOX_CLOSED', `sandbox ${this.kind} pool closed during the run`, { cause: err });
      throw err;
    } finally {
      this.busy.delete(host);
      const next = host.alive && !this.closed ? this.waiting.shift() : undefined;
      if (next) next.take(host);
      else if (host.alive && !this.closed && this.idle.length < this.opts.maxIdle) {
        host.setRef(false);
        this.idle.push(host);
      } else host.kill();
      this.refill();
    }
  }

  /** An idle sandbox, a new one, or (all `maxSize` busy) the next one freed; rejects when `signal` aborts first. */
  private acquire(signal: AbortSignal): Promise<SandboxHost> {
    const free = this.idle.shift() ?? (this.all.size < this.opts.maxSize ? this.spawn() : undefined);
    if (free) return Promise.resolve(free);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<SandboxHost>((resolve, reject) => {
      const waiter = {
        take: (host: SandboxHost) => {
          signal.removeEventListener('abort', onAbort);
          resolve(host);
        },
        fail: (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = (): void => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Starts sandboxes for waiting runs while there is room (after one ended). */
  private serveWaiting(): void {
    while (!this.closed && this.waiting.length > 0 && this.all.size < this.opts.maxSize) this.waiting.shift()!.take(this.spawn());
  }

  /** Ends every sandbox, running ones too (their runs fail with `SANDBOX_CLOSED`). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closed';
      for (const w of this.waiting.splice(0)) w.fail(new SandboxError('SANDBOX_CLOSED', `sandbox ${this.kind} pool is closed`));
      const gone = [...this.all].map((host) => new Promise<void>((resolve) => (host.alive ? host.once('exit', () => resolve()) : resolve())));
      for (const host of this.all) {
        host.setRef(true); // an idle one is unref'd: the exit must still be waited for
        host.kill();
      }
      this.idle.length = 0;
      await Promise.all(gone);
    })();
    return this.closing;
  }

  private spawn(): SandboxHost {
    const host = this.opts.kind === 'thread' ? new ThreadHost(this.opts.entry, this.opts.resourceLimits) : new ProcessHost(this.opts.entry);
    this.all.add(host);
    host.once('exit', (why) => {
      this.all.delete(host);
      const at = this.idle.indexOf(host);
      if (at >= 0) {
        this.idle.splice(at, 1);
        if (this.state !== 'closed') this.opts.log.warn({ kind: this.kind, why }, 'idle sandbox ended; replacing it');
      }
      this.serveWaiting();
      this.refill();
    });
    host.start();
    host.setRef(false);
    return host;
  }

  private refill(): void {
    while (this.state === 'started' && this.idle.length < this.opts.minIdle && this.all.size < this.opts.maxSize) this.idle.push(this.spawn());
  }
}
