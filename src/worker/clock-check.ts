import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { DEFAULTS } from '../defaults.js';

/** While the clock is off, how often a step back into bounds is looked for. */
const STEP_LOOK_MS = 1000;

export interface ClockReading {
  /** Local clock minus ZooKeeper's (ms); positive when this machine is ahead. */
  skewMs: number;
  maxSkewMs: number;
  ok: boolean;
  checkedAt: string;
}

export interface ClockCheckEvents {
  /** Emitted after every check. */
  reading: [reading: ClockReading];
}

/**
 * Compares this machine's clock with ZooKeeper's: writes `/clock` and reads the server's `mtime`
 * of that write, against the midpoint of the local send and receive times. Checks at start and
 * then whenever `intervalMs` has passed without a reading. A worker that fires takes its readings
 * from its own run writes instead (`observe`: every begin multi returns the server's time), so it
 * spends no transaction of its own on the clock.
 */
export class ClockCheck extends EventEmitter<ClockCheckEvents> implements ServerClockObserver {
  private timer: TimerHandle | undefined;
  private stepTimer: TimerHandle | undefined;
  private last: ClockReading | undefined;
  /** Local time of the last reading (checked or observed). */
  private lastAt = 0;
  private closed = false;
  /** The local clock minus the monotonic one at the last reading: a step of the local clock moves it. */
  private anchorMs: number | undefined;
  private checking: Promise<unknown> | undefined;
  private stepLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly maxSkewMs: number,
    private readonly log: Logger,
    private readonly intervalMs: number = DEFAULTS.worker.clockCheckIntervalMs,
    /** The local clock; replaceable to simulate a skewed machine. */
    private readonly now: () => number = Date.now,
    /** The timer of the periodic check, and the monotonic clock a step of `now` is told by. @default systemClock */
    private readonly timers: Pick<Clock, 'setInterval' | 'clearInterval' | 'monotonic'> = systemClock,
  ) {
    super();
  }

  get reading(): ClockReading | undefined {
    return this.last;
  }

  async start(): Promise<ClockReading> {
    await this.zk.createIfAbsent(this.paths.clock);
    const reading = await this.check();
    // Ticks three times per interval, so that a reading is never more than 4/3 intervals old.
    this.timer = this.timers.setInterval(() => void this.tick(), Math.max(1, Math.floor(this.intervalMs / 3)));
    this.timer.unref?.();
    // While the clock is off, a step back into bounds is looked for every second (no I/O until
    // one is seen), so that a worker fires again soon after its clock is set right.
    this.stepTimer = this.timers.setInterval(() => {
      if (this.last && !this.last.ok) this.trustNow();
    }, STEP_LOOK_MS);
    this.stepTimer.unref?.();
    return reading;
  }

  /** Checks when the last reading is an interval old; resolves when done (never rejects). */
  private tick(): Promise<void> | undefined {
    if (this.closed || this.now() - this.lastAt < this.intervalMs) return undefined;
    return this.check().then(
      () => undefined,
      (err: unknown) => {
        if (!(err instanceof ZkClosedError) && !this.closed) this.log.warn({ err }, 'clock check failed');
      },
    );
  }

  localNow(): number {
    return this.now();
  }

  /**
   * A reading from a write made for another reason: the local times just before sending it and
   * just after its answer, and the server's `mtime` of it. At most one per second is kept.
   */
  observe(sentMs: number, receivedMs: number, serverMtimeMs: number): void {
    // A slow answer (or a stalled event loop) blurs the midpoint: leave those to the periodic check.
    if (this.closed || receivedMs - this.lastAt < 1000 || receivedMs - sentMs > Math.min(1000, this.maxSkewMs / 4)) return;
    this.record(sentMs, receivedMs, serverMtimeMs);
  }

  /**
   * Whether the local clock can be trusted right now: the last reading was within bounds and the
   * local clock has not been stepped since by so much that it may no longer be. A step is told
   * from the monotonic clock, without any I/O, so a fire timer that wakes after a forward step
   * does not begin fires of instants that have not come yet (fleet simulation, seed 132). When it
   * cannot be trusted, a server reading is taken at once; its verdict pauses or resumes firing.
   */
  trustNow(): boolean {
    const last = this.last;
    if (!last || this.anchorMs === undefined) return true;
    const steppedMs = this.now() - this.timers.monotonic() - this.anchorMs;
    const skewMs = last.skewMs + steppedMs;
    const estimateOk = Math.abs(skewMs) <= this.maxSkewMs;
    if (estimateOk === last.ok) return last.ok;
    // The step changes the verdict (either way): only a reading of ZooKeeper's clock settles it.
    const at = this.timers.monotonic();
    if (!estimateOk && at - this.stepLoggedAt >= 60_000) {
      this.stepLoggedAt = at;
      this.log.warn({ steppedMs: Math.round(steppedMs), skewMs: Math.round(skewMs), maxSkewMs: this.maxSkewMs }, 'local clock stepped since the last reading: not firing until ZooKeeper\'s clock is read again');
    }
    if (!this.checking && !this.closed) {
      this.checking = this.check()
        .catch((err: unknown) => {
          if (!(err instanceof ZkClosedError) && !this.closed) this.log.warn({ err }, 'clock check failed');
        })
        .finally(() => (this.checking = undefined));
    }
    return false;
  }

  close(): void {
    this.closed = true;
    this.timers.clearInterval(this.timer);
    this.timers.clearInterval(this.stepTimer);
  }

  async check(): Promise<ClockReading> {
    const sent = this.now();
    const stat = await this.zk.setData(this.paths.clock, Buffer.alloc(0));
    return this.record(sent, this.now(), stat.mtime);
  }

  private record(sent: number, received: number, serverMtime: number): ClockReading {
    this.lastAt = received;
    this.anchorMs = received - this.timers.monotonic();
    const skewMs = Math.round((sent + received) / 2 - serverMtime);
    const ok = Math.abs(skewMs) <= this.maxSkewMs;
    const reading = { skewMs, maxSkewMs: this.maxSkewMs, ok, checkedAt: new Date(received).toISOString() };
    if (ok !== (this.last?.ok ?? true)) {
      if (ok) this.log.info({ skewMs, maxSkewMs: this.maxSkewMs }, 'clock back within bounds: firing again');
      else this.log.error({ skewMs, maxSkewMs: this.maxSkewMs }, 'clock differs from ZooKeeper\'s by more than maxClockSkewMs: refusing to fire and giving up items');
    }
    this.last = reading;
    this.emit('reading', reading);
    return reading;
  }
}
