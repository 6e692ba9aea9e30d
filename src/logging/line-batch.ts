import type { Timers } from '../clock/clock.js';

/**
 * Log lines of one kind gathered over a turn of the clock and written as one: a worker that takes
 * over 20,000 items, or records the missed fires of 20,000 items at once, writes one line with
 * them instead of 20,000 (10,000 × 8 bench: over a thousand lines a second per worker, each a JSON
 * serialization and a write on the event loop that runs the handlers).
 */
export class LineBatch<E> {
  private pending: E[] = [];

  constructor(
    /** Writes the line of what was gathered (never called with none). */
    private readonly write: (entries: E[]) => void,
    private readonly timers: Pick<Timers, 'setImmediate'>,
  ) {}

  /** Adds an entry to the line written after this turn. */
  add(entry: E): void {
    if (this.pending.push(entry) === 1) this.timers.setImmediate(() => this.flush());
  }

  /** Writes what was gathered now. */
  flush(): void {
    const entries = this.pending;
    if (entries.length === 0) return;
    this.pending = [];
    this.write(entries);
  }
}
