import type { TimerHandle, Timers } from '../../src/clock/clock.js';

/** Lets pending promise callbacks run: a few real turns of the event loop, no time passes. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Simulated time for components that take `Timers`: nothing fires until `advance()` moves the
 * clock, and then every timer due fires in order (settling promises after each).
 */
export class ManualTimers implements Timers {
  now = 0;
  private seq = 0;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.queue.set(id, { at: this.now + Math.max(0, ms), fn });
    return { id } as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.queue.delete((handle as { id?: number } | undefined)?.id ?? -1);
  }

  setImmediate(fn: () => void): TimerHandle {
    return this.setTimeout(fn, 0);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.queue.size;
  }

  /** When the next timer is due, or undefined when none is set. */
  get nextAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.queue.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** Moves the clock `ms` forward, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.queue) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.queue.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
    await settle();
  }
}
