import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';

export interface SweepTiming {
  /** Least time from the start of one sweep to the start of the next. @default 1000 */
  minIntervalMs?: number;
  /**
   * Largest share of the time spent sweeping: after a sweep of d ms the next waits at least
   * d × (1 − share) / share, so that a large fleet is swept less often rather than all the time.
   * @default 0.25
   */
  busyShare?: number;
  /** @default systemClock */
  clock?: Clock;
}

/**
 * Runs a sweep (a bounded read of many nodes) again and again, one at a time, spaced by
 * {@link SweepTiming}. A failed sweep is logged and the next one comes as usual. `start()` and
 * `close()` are idempotent; nothing runs after `close()`.
 */
export class SweepLoop {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly minIntervalMs: number;
  private readonly busyShare: number;
  /** How long the last sweep took (ms). */
  lastDurationMs = 0;

  constructor(private readonly sweep: () => Promise<void>, timing: SweepTiming, private readonly log: Logger) {
    this.clock = timing.clock ?? systemClock;
    this.minIntervalMs = timing.minIntervalMs ?? 1000;
    const share = timing.busyShare ?? 0.25;
    if (!(share > 0 && share <= 1)) throw new RangeError(`sweep busyShare must be in (0, 1], got ${share}`);
    this.busyShare = share;
  }

  /** Schedules the first sweep (after the minimum interval: the caller has just read everything). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.schedule(this.minIntervalMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The wait after a sweep of `durationMs` before the next one starts. */
  delayAfter(durationMs: number): number {
    return Math.max(this.minIntervalMs - durationMs, (durationMs * (1 - this.busyShare)) / this.busyShare);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.runOnce();
    }, delayMs);
    this.timer.unref?.();
  }

  private async runOnce(): Promise<void> {
    if (this.closed || this.running) return;
    const started = this.clock.monotonic();
    this.running = this.sweep().catch((err: unknown) => {
      if (!this.closed) this.log.warn({ err: (err as Error)?.message ?? String(err) }, 'item sweep failed; the next one comes as usual');
    });
    await this.running;
    this.running = undefined;
    this.lastDurationMs = this.clock.monotonic() - started;
    this.schedule(this.delayAfter(this.lastDurationMs));
  }
}
