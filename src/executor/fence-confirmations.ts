import type { RunFences } from './run-fences.js';
import type { LedgerWriter } from './ledger-writer.js';
import { holdsRuns } from './holds-runs.js';

/** A run asking whether it is still ours after its fence moved. */
interface Ask {
  job: string;
  item: number;
  fireTime: Date;
  resolve: (held: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Confirms runs' fences after our member node's version moved (`RunLedger.confirmFence`), the runs
 * that ask in one turn together: they share one read of our member node and one read of each
 * ledger part they are in. A forced remove or reshard fences every run of ours at once, and each
 * of a gate's runs asks before its handler is entered: 2,000 runs at one instant each read the
 * member node and their ledger part on their own, 4,000 reads before the instant's handlers could
 * go on.
 *
 * A round's reads are sent after every ask of it was made (the turn's asks are collected, then read
 * in a microtask), so each run's answer is read after it asked, as when each read alone. Asks made
 * while a round is reading wait for the next round.
 */
export class FenceConfirmations {
  private waiting: Ask[] = [];

  constructor(
    private readonly fences: RunFences,
    private readonly ledger: Pick<LedgerWriter, 'readInFlight' | 'forget'>,
  ) {}

  /**
   * Whether our ledger still holds the run (in flight at its fire); if it does, its fence becomes
   * the member node's version now. When every move since the run's fence is known to have taken
   * no run, the ledger is not read.
   */
  confirm(job: string, item: number, fireTime: Date): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      if (this.waiting.push({ job, item, fireTime, resolve, reject }) === 1) queueMicrotask(() => void this.round());
    });
  }

  private async round(): Promise<void> {
    const asks = this.waiting;
    this.waiting = [];
    let unread: Ask[] = asks;
    try {
      const now = await this.fences.refresh();
      if (now !== undefined) {
        unread = [];
        for (const a of asks) {
          if (this.fences.followIfNoRunTaken(a.job, a.item, now)) a.resolve(true);
          else unread.push(a);
        }
      }
      if (unread.length === 0) return;
      const held = await holdsRuns(this.ledger, unread);
      unread.forEach((a, k) => {
        if (!held[k]) {
          this.ledger.forget(a.job, a.item, a.fireTime.getTime()); // cleared by a forced remove or reshard: so goes our own account of it
          a.resolve(false);
          return;
        }
        if (now !== undefined) this.fences.set(a.job, a.item, now);
        a.resolve(true);
      });
    } catch (err) {
      for (const a of unread) a.reject(err);
    }
  }
}
