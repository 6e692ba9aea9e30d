/**
 * Remembered answers of a step function of time (a schedule's next or latest fire): each answer
 * with the interval of instants it is known to hold for, [from, to]. Asking about any instant in
 * an interval gives its answer without computing it again. Holds at most `capacity` intervals,
 * the oldest dropped first; an answer found again widens its interval.
 */
export class IntervalMemo {
  readonly #entries: Array<{ from: number; to: number; answer: number }> = [];

  constructor(readonly capacity = 16) {}

  /** The answer for `t`, if `t` is in a remembered interval. */
  get(t: number): number | undefined {
    for (const e of this.#entries) if (e.from <= t && t <= e.to) return e.answer;
    return undefined;
  }

  /** Remembers that `answer` holds for every instant in [from, to]. */
  add(from: number, to: number, answer: number): void {
    const known = this.#entries.find((e) => e.answer === answer);
    if (known) {
      known.from = Math.min(known.from, from);
      known.to = Math.max(known.to, to);
      return;
    }
    this.#entries.push({ from, to, answer });
    if (this.#entries.length > this.capacity) this.#entries.shift();
  }
}
