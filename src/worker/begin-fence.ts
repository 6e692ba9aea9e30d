import type { Logger } from 'pino';

/**
 * The version of our member node that this worker's begins check: the highest one as of which
 * its view of the assignments is complete. The leader fences a member (writes its node) in the
 * multi that moves items away from it, so a begin that checks a version from before that multi
 * fails; the watch events of that multi's assignment writes come before the fence's (one
 * transaction, delivered in order), so once the member node shows version v, waiting until the
 * assignment caches have read what their watches announced and the scheduler has applied it
 * (`caughtUp`) gives a view in which no item moved away by that multi is still ours. Only then do
 * begins check v.
 */
export class BeginFence {
  private settled: number;
  private target: number;
  private settling = false;
  private closed = false;
  private waiters: Array<{ above: number; resolve: (version: number | undefined) => void }> = [];

  constructor(
    initial: number,
    /** Resolves once every assignment change announced so far is applied to the scheduler. */
    private readonly caughtUp: () => Promise<void>,
    private readonly log: Logger,
  ) {
    this.settled = initial;
    this.target = initial;
  }

  /** The version begins check now. */
  get version(): number {
    return this.settled;
  }

  /** Our member node's version moved to `version` (a fence, or our own update). */
  moved(version: number): void {
    if (this.closed || version <= this.target) return;
    this.target = version;
    void this.settle();
  }

  /** Resolves with the version begins check once it is above `above`; undefined once closed. */
  above(above: number): Promise<number | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.settled > above) return Promise.resolve(this.settled);
    return new Promise((resolve) => this.waiters.push({ above, resolve }));
  }

  /** Wakes every waiter with undefined. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(undefined);
  }

  private async settle(): Promise<void> {
    if (this.settling) return;
    this.settling = true;
    try {
      while (!this.closed && this.target > this.settled) {
        const target = this.target;
        await this.caughtUp();
        if (this.closed) return;
        this.log.debug({ from: this.settled, to: target }, 'begins check the member node at a new version');
        this.settled = target;
        const ready = this.waiters.filter((w) => w.above < target);
        this.waiters = this.waiters.filter((w) => w.above >= target);
        for (const w of ready) w.resolve(target);
      }
    } finally {
      this.settling = false;
    }
  }
}
