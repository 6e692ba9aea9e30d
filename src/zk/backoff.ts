export interface BackoffOptions {
  /** The step of the first retry, in ms (the delay is drawn from its upper half). @default 250 */
  initialMs?: number;
  /**
   * The largest step, in ms: delays never exceed it (a cache is never more than this behind once
   * ZooKeeper answers again). @default 1000
   */
  maxMs?: number;
  /** Source of randomness in [0, 1), replaceable for deterministic runs. @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff with jitter, bounded. The n-th delay since the last `reset()` is drawn from
 * [step/2, step], where step = min(maxMs, initialMs · 2^(n-1)): retries of many parties that failed
 * together spread out instead of arriving together again.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 1000;
    this.random = options.random ?? Math.random;
    if (!(Number.isFinite(this.initialMs) && this.initialMs > 0)) {
      throw new RangeError(`backoff: \`initialMs\` must be a positive number, got ${this.initialMs}`);
    }
    if (!(Number.isFinite(this.maxMs) && this.maxMs >= this.initialMs)) {
      throw new RangeError(`backoff: \`maxMs\` must be a number >= initialMs (${this.initialMs}), got ${this.maxMs}`);
    }
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next retry (counts one more failure). */
  next(): number {
    this.failures++;
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(step / 2 + (step / 2) * this.random());
  }

  /** After a success: the next failure waits the first step again. */
  reset(): void {
    this.failures = 0;
  }
}
