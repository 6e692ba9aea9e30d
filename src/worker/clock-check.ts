import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';

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
 * every `intervalMs`.
 */
export class ClockCheck extends EventEmitter<ClockCheckEvents> {
  private timer: NodeJS.Timeout | undefined;
  private last: ClockReading | undefined;
  private closed = false;

  constructor(
    private readonly zk: ZkClient,
    private readonly paths: ZkPaths,
    private readonly maxSkewMs: number,
    private readonly log: Logger,
    private readonly intervalMs = 30_000,
    /** The local clock; replaceable to simulate a skewed machine. */
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  get reading(): ClockReading | undefined {
    return this.last;
  }

  async start(): Promise<ClockReading> {
    await this.zk.createIfAbsent(this.paths.clock);
    const reading = await this.check();
    this.timer = setInterval(() => void this.check().catch((err: unknown) => {
      if (!(err instanceof ZkClosedError) && !this.closed) this.log.warn({ err }, 'clock check failed');
    }), this.intervalMs);
    this.timer.unref();
    return reading;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  async check(): Promise<ClockReading> {
    const sent = this.now();
    const stat = await this.zk.setData(this.paths.clock, Buffer.alloc(0));
    const received = this.now();
    const skewMs = Math.round((sent + received) / 2 - stat.mtime);
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
