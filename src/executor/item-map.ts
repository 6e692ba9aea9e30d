/**
 * Values by job and item. Keyed by a job's name, then the item number: a `${job}#${item}` string
 * key is made and hashed anew on every lookup, and the ledger looks items up several times per
 * run (about 5 % of a firing worker's CPU in issue 16's profile of 1,000 jobs × 8 items).
 */
export class ItemMap<V> {
  private readonly byJob = new Map<string, Map<number, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(job: string, item: number): V | undefined {
    return this.byJob.get(job)?.get(item);
  }

  has(job: string, item: number): boolean {
    return this.byJob.get(job)?.has(item) ?? false;
  }

  set(job: string, item: number, value: V): void {
    let items = this.byJob.get(job);
    if (!items) {
      items = new Map();
      this.byJob.set(job, items);
    }
    if (!items.has(item)) this.count++;
    items.set(item, value);
  }

  delete(job: string, item: number): boolean {
    const items = this.byJob.get(job);
    if (!items?.delete(item)) return false;
    this.count--;
    // A job's map is kept when it empties: its items are set and deleted again every fire (a
    // worker's lanes, its fences), and a map made anew each time, with the table of jobs rehashed
    // as they came and went, was among a firing worker's largest allocations. Jobs are few (a
    // worker's own).
    return true;
  }

  /** Calls `fn` with every entry, job by job, making nothing per entry (a sweep over every item of a worker runs every few seconds). */
  forEach(fn: (value: V, job: string, item: number) => void): void {
    // Map.forEach, not for…of: a for…of over a Map makes an [key, value] array per entry.
    this.byJob.forEach((items, job) => items.forEach((value, item) => fn(value, job, item)));
  }

  /** Every entry, job by job (in the order jobs were first set). */
  *entries(): IterableIterator<[job: string, item: number, value: V]> {
    for (const [job, items] of this.byJob) for (const [item, value] of items) yield [job, item, value];
  }
}
