import type { Timers } from '../clock/clock.js';

/** Jobs refreshed per turn of the event loop, at most. */
export const REFRESHES_PER_TURN = 200;

/**
 * Jobs whose definition or assignment changed, refreshed in slices of REFRESHES_PER_TURN per turn
 * of the event loop, each job once however often it changed meanwhile (a refresh reads the
 * caches' current values, so the last change wins anyway). A worker with 10,000 jobs refreshed
 * them all in one go at start-up and whenever the leader published a round of assignments: 1.5 s
 * of blocked event loop, 2–4 s on a loaded machine, past the lease margin — the session was
 * declared lost and the worker started over, again and again (issue 16's 10,000-job bench).
 */
export class JobRefreshQueue {
  private readonly due = new Set<string>();
  private scheduled = false;
  private closed = false;
  private waiting: Array<() => void> = [];

  constructor(
    private readonly refresh: (job: string) => void,
    private readonly timers: Pick<Timers, 'setImmediate'>,
    /** A refresh that threw (the others go on). */
    private readonly onError: (err: unknown, job: string) => void,
    private readonly perTurn = REFRESHES_PER_TURN,
  ) {}

  /** Refreshes `job` soon (on a later turn; once, if it is already due). */
  add(job: string): void {
    if (this.closed) return;
    this.due.add(job);
    if (this.scheduled) return;
    this.scheduled = true;
    this.timers.setImmediate(() => this.drain());
  }

  /** Resolves once no job is due (at once if none is), or the queue is closed. */
  idle(): Promise<void> {
    if (this.due.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Drops what is due; nothing is refreshed any more. Idempotent. */
  close(): void {
    this.closed = true;
    this.due.clear();
    this.wake();
  }

  private drain(): void {
    this.scheduled = false;
    if (this.closed) return;
    let n = 0;
    for (const job of this.due) {
      if (n++ === this.perTurn) break;
      this.due.delete(job);
      try {
        this.refresh(job);
      } catch (err) {
        this.onError(err, job);
      }
      if (this.closed) return;
    }
    if (this.due.size > 0) {
      this.scheduled = true;
      this.timers.setImmediate(() => this.drain());
    } else this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
