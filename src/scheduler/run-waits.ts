import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ledgerPartOf, readLedgerPart } from '../model/member-ledger.js';
import { keyOf } from './job-state.js';

/** Who holds an item a takeover found running elsewhere: a live member's ledger, or (no ledger view) a running marker. */
export type RunElsewhere = { member: string } | 'marker';

/**
 * Items a takeover found running on another member, each watched until that run is over; then
 * `ended` asks for the item's next takeover round. One watch per item, so one run's end means one
 * round. A run the ledgers showed (run protocol v2, step 3b) is over once its member's ledger part
 * no longer has the item in flight (its release), or its member node is gone (its session ended:
 * the run was cut short, and the next round re-runs it); a run only its marker showed is over when
 * the marker is gone.
 */
export class RunWaits {
  private readonly watching = new Set<string>();

  constructor(
    private readonly zk: Pick<ZkSession, 'getDataIfExists' | 'exists'>,
    private readonly paths: ZkPaths,
    /** Parts per ledger (`LEDGER_PARTS`). */
    private readonly partCount: number,
    /** The run on the item (`job`, `item`) may be over: take it over again (if still ours). */
    private readonly ended: (job: string, item: number) => void,
  ) {}

  /** Items watched now. */
  get size(): number {
    return this.watching.size;
  }

  /** Whether the item (`job#item`) waits for a run elsewhere. */
  has(key: string): boolean {
    return this.watching.has(key);
  }

  /** Watches the item until the run `holder` has of it is over (nothing if it is watched already). */
  wait(job: string, item: number, holder: RunElsewhere): void {
    const key = keyOf(job, item);
    if (this.watching.has(key)) return;
    this.watching.add(key);
    if (holder === 'marker') this.watchMarker(job, item, key);
    else this.watchLedger(job, item, key, holder.member);
  }

  private watchMarker(job: string, item: number, key: string): void {
    const path = this.paths.running(job, item);
    const settle = (): void => {
      this.watching.delete(key);
    };
    void this.zk
      .exists(path, (event) => {
        settle();
        if (event.type === 'deleted') this.ended(job, item);
        else this.wait(job, item, 'marker');
      })
      .then((stat) => {
        if (stat !== null) return;
        settle();
        this.ended(job, item);
      })
      .catch(settle);
  }

  /**
   * Its member's ledger part is read again (with a watch) each time it changes, until the item is
   * no longer in flight there; its member node is watched beside it, until it is deleted. The first
   * of the two to say the run is over ends the wait; a read that fails ends it too (the next round
   * reads again).
   */
  private watchLedger(job: string, item: number, key: string, member: string): void {
    const partPath = this.paths.ledgerPart(member, ledgerPartOf(job, this.partCount));
    let over = false;
    const end = (): void => {
      if (over) return;
      over = true;
      this.watching.delete(key);
      this.ended(job, item);
    };
    const readPart = (): void => {
      void this.zk
        .getDataIfExists(partPath, () => {
          if (!over) readPart();
        })
        .then((found) => {
          const part = found ? readLedgerPart(found.data, partPath) : undefined;
          // Gone, unreadable, or without the item in flight: the run is not (or no longer known to be) going on.
          if (!part?.ok || !part.value.get(job)?.f.has(item)) end();
        })
        .catch(end);
    };
    // A write of the member node (the leader's fence) is no end of the run: watched again.
    const watchMember = (): void => {
      void this.zk
        .exists(this.paths.member(member), (event) => {
          if (event.type === 'deleted') end();
          else if (!over) watchMember();
        })
        .then((stat) => {
          if (stat === null) end();
        })
        .catch(end);
    };
    readPart();
    watchMember();
  }
}
