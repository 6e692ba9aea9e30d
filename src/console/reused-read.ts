/**
 * A costly read shared by every caller (the console's read of every item's history: 8,000 reads at
 * 1,000 jobs × 8 items). One read at a time; its result is reused for `minReuseMs` or ten times as
 * long as the read took, whichever is longer; past that, callers are answered with the last result
 * while a newer read is made (up to twice the reuse time: then they wait for the new one). So a busy
 * ZooKeeper never sees two of these reads at once, and a page asking again does not wait behind one.
 */
export class ReusedRead<T> {
  private last: { at: number; value: T; tookMs: number } | undefined;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly minReuseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const t = this.now();
    const last = this.last;
    const reuseMs = last ? Math.max(this.minReuseMs, 10 * last.tookMs) : 0;
    if (last && t - last.at < reuseMs) return Promise.resolve(last.value);
    if (!this.reading) {
      const reading = this.read().then(
        (value) => {
          this.last = { at: t, value, tookMs: this.now() - t };
          this.reading = undefined;
          return value;
        },
        (err: unknown) => {
          this.reading = undefined;
          throw err;
        },
      );
      this.reading = reading;
      // Whoever was answered with the last result does not wait for this one: a failure is theirs
      // only if they wait (the next call reads again).
      reading.catch(() => undefined);
    }
    if (last && t - last.at < 2 * reuseMs) return Promise.resolve(last.value);
    return this.reading;
  }
}
