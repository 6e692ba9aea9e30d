import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import { IllegalStateError } from '../../errors/illegal-state-error.js';
import type { JobHandler } from '../job-context.js';
import { sandboxEntry } from './sandbox-entry.js';
import type { SandboxKind } from './sandbox-host.js';
import { SandboxPool } from './sandbox-pool.js';

export interface SandboxRunnerOptions {
  /** Where the runner logs (a `component: 'sandbox'` child); handlers log through their run's logger. */
  log: Logger;
  /** Kinds whose pool starts its warm sandboxes at `start()` (others start on first use). @default [] */
  prewarm?: readonly SandboxKind[];
  /** Idle sandboxes of each kind kept started, once that kind is in use. @default 1 */
  minIdle?: number;
  /** Idle sandboxes of each kind kept at most. @default 4 */
  maxIdle?: number;
  /** Sandboxes of each kind at most; further runs wait for one to be free. @default 8 */
  maxSandboxes?: number;
  /** After an abort (timeout, shutdown, replace), how long a handler may take to end before it is killed. @default 1000 */
  abortGraceMs?: number;
  /**
   * Milliseconds left of the worker's current lease (`ZkClient.leaseRemainingMs`): an abort's
   * grace never runs past it, so a lease lost during the grace cannot be outlived. @default unbounded
   */
  leaseRemainingMs?: () => number;
  /** Heap limits of each thread. @default Node's */
  resourceLimits?: ResourceLimits;
  /** The sandbox entry module. @default sandboxEntry() */
  entry?: URL;
}

/** The defaults of {@link SandboxRunnerOptions}. */
export const SANDBOX_DEFAULTS = { minIdle: 1, maxIdle: 4, maxSandboxes: 8, abortGraceMs: 1000 } as const;

/**
 * Runs module handlers off the worker's event loop, for jobs with `sandbox: thread | process`:
 * one warm pool per kind. `handler(kind, file)` is a `JobHandler` that runs each attempt in a
 * sandbox of that kind.
 */
export class SandboxRunner {
  private readonly pools = new Map<SandboxKind, SandboxPool>();
  private readonly log: Logger;
  private entry: URL | undefined;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: SandboxRunnerOptions) {
    this.log = opts.log.child({ component: 'sandbox' });
  }

  /** Warms the `prewarm` pools (a sandbox that cannot start is logged; its runs will fail). */
  start(): void {
    if (this.state !== 'latent') throw new IllegalStateError(`sandbox runner: start() when ${this.state}`);
    this.state = 'started';
    for (const kind of this.opts.prewarm ?? []) {
      try {
        this.pool(kind).start();
      } catch (err) {
        this.log.error({ err, kind }, 'cannot start sandboxes');
      }
    }
  }

  /** A handler that runs the module `file` (absolute path) in a sandbox of `kind`, one attempt per call. */
  handler(kind: SandboxKind, file: string): JobHandler {
    return (ctx) => this.pool(kind).run(file, ctx);
  }

  /** The pool of `kind` (made on first use; throws `SANDBOX_ENTRY_MISSING` when there is no built entry). */
  pool(kind: SandboxKind): SandboxPool {
    if (this.state !== 'started') throw new IllegalStateError(`sandbox runner: used when ${this.state}`);
    let pool = this.pools.get(kind);
    if (!pool) {
      this.entry ??= this.opts.entry ?? sandboxEntry();
      pool = new SandboxPool({
        kind,
        entry: this.entry,
        minIdle: this.opts.minIdle ?? SANDBOX_DEFAULTS.minIdle,
        maxIdle: this.opts.maxIdle ?? SANDBOX_DEFAULTS.maxIdle,
        maxSize: this.opts.maxSandboxes ?? SANDBOX_DEFAULTS.maxSandboxes,
        abortGraceMs: this.opts.abortGraceMs ?? SANDBOX_DEFAULTS.abortGraceMs,
        leaseRemainingMs: this.opts.leaseRemainingMs,
        log: this.log,
        resourceLimits: this.opts.resourceLimits,
      });
      this.pools.set(kind, pool);
    }
    return pool;
  }

  /** Ends every sandbox (runs still in one fail with `SANDBOX_CLOSED`). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.state = 'closed';
      await Promise.all([...this.pools.values()].map((p) => p.close()));
    })();
    return this.closing;
  }
}
