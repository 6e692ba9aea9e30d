import { EventEmitter } from 'node:events';

export interface OpenJobsEvents {
  /** A job was opened by its first holder (`true`) or closed by its last (`false`). */
  changed: [job: string, open: boolean];
}

/**
 * The jobs some browser has open (a job page), reference counted: the console watches the item
 * nodes (progress records, their part of the members' ledgers) of these jobs only; every other job's items are read
 * in periodic sweeps. Outlives the console's ZooKeeper sessions: the cache of a new session
 * starts from {@link names}.
 */
export class OpenJobs extends EventEmitter<OpenJobsEvents> {
  private readonly counts = new Map<string, number>();

  /** Jobs open now. */
  get names(): ReadonlySet<string> {
    return new Set(this.counts.keys());
  }

  has(job: string): boolean {
    return this.counts.has(job);
  }

  /** One more holder of `job`. */
  acquire(job: string): void {
    const n = this.counts.get(job) ?? 0;
    this.counts.set(job, n + 1);
    if (n === 0) this.emit('changed', job, true);
  }

  /** One holder fewer; releasing a job not held does nothing. */
  release(job: string): void {
    const n = this.counts.get(job);
    if (n === undefined) return;
    if (n > 1) this.counts.set(job, n - 1);
    else {
      this.counts.delete(job);
      this.emit('changed', job, false);
    }
  }
}
