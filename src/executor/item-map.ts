/** What a deleted entry's key keeps (see `ItemMap.delete`). */
const VACANT: unique symbol = Symbol('vacant');

/** Vacant keys kept at most beyond twice the most entries held since the last compaction. */
const VACANT_SLACK = 1024;

/**
 * Values by job and item. Keyed by a job's name, then the item number: a `${job}#${item}` string
 * key is made and hashed anew on every lookup, and the ledger looks items up several times per
 * run (about 5 % of a firing worker's CPU in issue 16's profile of 1,000 jobs × 8 items).
 *
 * A deleted entry keeps its key, marked vacant, for the next `set`: a worker sets and deletes the
 * same items every fire (its lanes, its fences), and a Map that deletes a key rehashes into a new
 * table as it empties and again as it fills (an allocation per run, living across the run, that
 * the young generation promoted). The vacant keys are dropped once they outnumber twice the most
 * entries held since they were last dropped (items that went to other workers), plus a slack.
 */
export class ItemMap<V> {
  private readonly byJob = new Map<string, Map<number, V | typeof VACANT>>();
  private count = 0;
  private vacant = 0;
  /** The most entries held since the vacant keys were last dropped. */
  private mostHeld = 0;

  get size(): number {
    return this.count;
  }

  /** Keys held, vacant ones included (what the maps take in memory). */
  get keysKept(): number {
    return this.count + this.vacant;
  }

  get(job: string, item: number): V | undefined {
    const value = this.byJob.get(job)?.get(item);
    return value === VACANT ? undefined : value;
  }

  has(job: string, item: number): boolean {
    const items = this.byJob.get(job);
    if (!items) return false;
    const value = items.get(item);
    return value === undefined ? items.has(item) : value !== VACANT;
  }

  set(job: string, item: number, value: V): void {
    let items = this.byJob.get(job);
    if (!items) {
      items = new Map();
      this.byJob.set(job, items);
    }
    const before = items.get(item);
    if (before === VACANT) {
      this.vacant--;
      this.count++;
    } else if (before === undefined && !items.has(item)) this.count++;
    if (this.count > this.mostHeld) this.mostHeld = this.count;
    items.set(item, value);
  }

  delete(job: string, item: number): boolean {
    const items = this.byJob.get(job);
    if (!items) return false;
    const before = items.get(item);
    if (before === VACANT || (before === undefined && !items.has(item))) return false;
    // A job's map is kept when it empties too: its items come back (and jobs are few, a worker's own).
    items.set(item, VACANT);
    this.count--;
    this.vacant++;
    if (this.vacant > 2 * this.mostHeld + VACANT_SLACK) this.dropVacant();
    return true;
  }

  /** Calls `fn` with every entry, job by job, making nothing per entry (a sweep over every item of a worker runs every few seconds). */
  forEach(fn: (value: V, job: string, item: number) => void): void {
    // Map.forEach, not for…of: a for…of over a Map makes an [key, value] array per entry.
    this.byJob.forEach((items, job) =>
      items.forEach((value, item) => {
        if (value !== VACANT) fn(value, job, item);
      }),
    );
  }

  /** Every entry, job by job (in the order jobs were first set). */
  *entries(): IterableIterator<[job: string, item: number, value: V]> {
    for (const [job, items] of this.byJob) for (const [item, value] of items) if (value !== VACANT) yield [job, item, value];
  }

  private dropVacant(): void {
    for (const [job, items] of this.byJob) {
      for (const [item, value] of items) if (value === VACANT) items.delete(item);
      if (items.size === 0) this.byJob.delete(job);
    }
    this.vacant = 0;
    this.mostHeld = this.count;
  }
}
