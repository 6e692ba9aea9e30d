import type { Clock, TimerHandle } from '../../src/clock/clock.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  periodMs?: number;
}

/** A clock whose time moves only when the test says so; timers fire in time order. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Pending[] = [];
  private readonly immediates = new Map<number, NodeJS.Immediate>();

  constructor(startMs: number) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  monotonic(): number {
    return this.time;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t: Pending = { id: ++this.seq, at: this.time + Math.max(0, delayMs), fn };
    this.timers.push(t);
    return { id: t.id, unref: () => undefined } as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const id = (handle as { id?: number } | undefined)?.id;
    this.timers = this.timers.filter((t) => t.id !== id);
    if (id !== undefined) {
      clearImmediate(this.immediates.get(id));
      this.immediates.delete(id);
    }
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const t: Pending = { id: ++this.seq, at: this.time + periodMs, fn, periodMs };
    this.timers.push(t);
    return { id: t.id, unref: () => undefined } as TimerHandle;
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** The next turn of the real event loop, at the current fake time (`settle()` and `advance*` let it run). */
  setImmediate(fn: () => void): TimerHandle {
    const id = ++this.seq;
    const handle = setImmediate(() => {
      this.immediates.delete(id);
      fn();
    });
    this.immediates.set(id, handle);
    return { id, unref: () => undefined } as TimerHandle;
  }

  /** Moves time to `toMs`, firing every timer due on the way (in order), with microtasks between. */
  async advanceTo(toMs: number): Promise<void> {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= toMs).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      if (due.periodMs) due.at += due.periodMs;
      else this.timers = this.timers.filter((t) => t !== due);
      due.fn();
      await settle();
    }
    this.time = Math.max(this.time, toMs);
    await settle();
  }

  /** Jumps time forward without firing anything (a process that stalls, then runs its timers late). */
  jump(byMs: number): void {
    this.time += byMs;
  }

  async advance(byMs: number): Promise<void> {
    await this.advanceTo(this.time + byMs);
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
