import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { DEFAULTS } from '../defaults.js';

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
  private last: ClockReading | undefined;
  /** Local time of the last reading (checked or observed). */
  private lastAt = 0;
  private closed = false;

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly maxSkewMs: number,
    private readonly log: Logger,
    private readonly intervalMs: number = DEFAULTS.worker.clockCheckIntervalMs,
    /** The local clock; replaceable to simulate a skewed machine. */
    private readonly now: () => number = Date.now,
    /** The timer of the periodic check. @default systemClock */
    private readonly timers: Pick<Clock, 'setInterval' | 'clearInterval'> = systemClock,
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

  close(): void {
    this.closed = true;
    this.timers.clearInterval(this.timer);
  }

  async check(): Promise<ClockReading> {
    const sent = this.now();
    const stat = await this.zk.setData(this.paths.clock, Buffer.alloc(0));
    return this.record(sent, this.now(), stat.mtime);
  }

  private record(sent: number, received: number, serverMtime: number): ClockReading {
    this.lastAt = received;
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
