/**
 * At most `limit` holders at once; the others wait, first come first served. Bounds how much of
 * one kind of work a caller has in flight towards ZooKeeper (each waiting read costs a request
 * object, a promise and a reply buffer until it is answered).
 */
export class RequestSlots {
  private held = 0;
  /** Those waiting, in order, from `head` on (a worker may queue 20,000 takeovers: no `shift()`, which moves the rest each time). */
  private waiting: Array<() => void> = [];
  private head = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RequestSlots: limit must be a positive integer, got ${limit}`);
  }

  /** Holders now. */
  get inUse(): number {
    return this.held;
  }

  /** Runs `work` once a slot is free, and frees it when `work` settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.held >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held++;
    try {
      return await work();
    } finally {
      // The slot goes straight to the next in line (`held` stays), so nobody overtakes it.
      const next = this.next();
      if (next) next();
      else this.held--;
    }
  }

  private next(): (() => void) | undefined {
    if (this.head === this.waiting.length) return undefined;
    const next = this.waiting[this.head++];
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    return next;
  }
}
