import { Backoff, type BackoffOptions } from './backoff.js';
import { systemClock, type TimerHandle, type Timers } from '../clock/clock.js';

export interface RefreshLoopOptions {
  /** Whether a failure is final (e.g. the session ended): then it is not retried. @default never */
  isFinal?: (err: unknown) => boolean;
  /** Told of each failure that is retried, with the delay before the retry (must not throw). */
  onRetry?: (err: unknown, delayMs: number) => void;
  /**
   * Start a requested run on the next turn of the event loop rather than at once, so that the
   * requests of one turn (a burst of changes) cost one run. @default false
   */
  deferred?: boolean;
  /** @default 250 ms doubling up to 1 s, jittered (see Backoff) */
  backoff?: BackoffOptions;
  /**
   * Runs made back to back at most, each asked for while the one before ran; then the next one
   * waits `pauseMs` (requests made meanwhile are served by it): whatever keeps changing under the
   * refresh is refreshed again a little later rather than in a spin. @default unbounded
   */
  maxBackToBack?: { runs: number; pauseMs: number };
  /** @default systemClock */
  timers?: Timers;
  /** Called whenever a run ends with nothing more to do (idle: no run asked for, no retry or pause due). */
  onIdle?: () => void;
}

/** The timing part of {@link RefreshLoopOptions}, for the components built on a refresh loop. */
export type RetryTiming = Pick<RefreshLoopOptions, 'backoff' | 'timers'>;

/**
 * Runs a refresh (re-read something, re-arm its watches) once at a time:
 * - `request()` starts a run when none runs; a request that arrives while one runs makes exactly
 *   one more run after it, however many arrive (they are coalesced);
 * - a failed run is retried after a jittered exponential backoff (`Backoff`), bounded; requests
 *   made while it waits are served by that retry; a success resets the backoff; a final failure
 *   (`isFinal`) is not retried;
 * - with `maxBackToBack`, after that many runs back to back the next one waits a pause (served
 *   like a retry);
 * - `close()` stops it: nothing runs after it, and no timer is left.
 * The caches, the leader latch, the leader's reconcile loop and the scheduler's takeovers (one
 * loop per item) are built on it.
 */
export class RefreshLoop {
  /** `waiting`: for a retry's backoff or a pause's end (see `maxBackToBack`). */
  private phase: 'idle' | 'starting' | 'running' | 'waiting' | 'closed' = 'idle';
  private again = false;
  /** Runs made back to back so far (each asked for during the one before). */
  private backToBack = 0;
  /** Resolvers of the requests the next run serves. */
  private waiting: Array<() => void> = [];
  /** Resolvers of `whenIdle()`. */
  private idleWaiters: Array<() => void> = [];
  private timer: TimerHandle | undefined;
  private readonly backoff: Backoff;
  private readonly timers: Timers;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly options: RefreshLoopOptions = {},
  ) {
    this.backoff = new Backoff(options.backoff);
    this.timers = options.timers ?? systemClock;
    const limit = options.maxBackToBack;
    if (limit && !(Number.isInteger(limit.runs) && limit.runs >= 1 && limit.pauseMs >= 0)) {
      throw new RangeError(`refresh-loop: \`maxBackToBack\` needs runs >= 1 and pauseMs >= 0, got ${JSON.stringify(limit)}`);
    }
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Whether a run is in progress. */
  get running(): boolean {
    return this.phase === 'running';
  }

  /** Whether nothing runs or is due: no run in progress, none about to start, no retry or pause pending. */
  get idle(): boolean {
    return this.phase === 'idle';
  }

  /** Resolves once the loop is idle (at once if it is) or closed, without asking for a run. */
  whenIdle(): Promise<void> {
    if (this.phase === 'idle' || this.phase === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Asks for a run (see the class). Resolves when a run begun after this call has ended, whether
   * it succeeded or failed, or when the loop is closed; never rejects.
   */
  request(): Promise<void> {
    if (this.phase === 'closed') return Promise.resolve();
    const served = new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.phase === 'running') this.again = true;
    else if (this.phase === 'idle') this.begin();
    // 'starting' or 'waiting': the run about to start serves this request too.
    return served;
  }

  /** Stops the loop: no further run starts, a pending retry is cancelled. Idempotent. */
  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.settle(this.waiting);
    this.waiting = [];
    this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    this.settle(waiters);
  }

  private begin(): void {
    if (this.options.deferred) {
      this.phase = 'starting';
      this.timers.setImmediate(() => void this.run());
    } else {
      void this.run();
    }
  }

  private async run(): Promise<void> {
    if (this.closed) return;
    this.phase = 'running';
    this.timer = undefined;
    this.again = false;
    const served = this.waiting;
    this.waiting = [];
    let failure: { err: unknown } | undefined;
    try {
      await this.refresh();
      this.backoff.reset();
    } catch (err) {
      if (!this.closed && !this.options.isFinal?.(err)) failure = { err };
    }
    this.settle(served);
    if (this.closed) return;
    if (failure) {
      const delayMs = this.backoff.next();
      this.wait(delayMs);
      this.options.onRetry?.(failure.err, delayMs);
    } else if (!this.again) {
      this.backToBack = 0;
      this.phase = 'idle';
      this.options.onIdle?.();
      this.wakeIdle();
    } else if (this.options.maxBackToBack && ++this.backToBack >= this.options.maxBackToBack.runs) {
      this.wait(this.options.maxBackToBack.pauseMs);
    } else {
      void this.run();
    }
  }

  /** The next run starts after `delayMs` (a retry, or a pause after runs back to back). */
  private wait(delayMs: number): void {
    this.backToBack = 0;
    this.phase = 'waiting';
    this.timer = this.timers.setTimeout(() => void this.run(), delayMs);
  }

  private settle(resolvers: ReadonlyArray<() => void>): void {
    for (const resolve of resolvers) resolve();
  }
}
