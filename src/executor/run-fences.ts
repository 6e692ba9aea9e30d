import { ItemMap } from './item-map.js';

/**
 * The worker's membership as the ledger sees it. `fenceVersion`/`refreshFence`: the data version of
 * its member node, which an operator's forced `remove`/`reshard` bumps in the same transaction
 * that takes runs out of its ledger. Every release checks it, so that a run taken that way can
 * never write over the item's next run, even when the item's node was made anew and reached the
 * data version the release expects (F7). Without them, releases are not fenced (tests of the
 * ledger alone).
 */
export interface LedgerMember {
  readonly name: string;
  readonly workerId: string;
  fenceVersion?(): number;
  refreshFence?(): Promise<number>;
  /**
   * The member node version every begin checks: the highest one as of which the worker's view of
   * its assignments is complete (the leader fences a member in the multi that moves items away
   * from it). Without it, begins check only that the node exists (tests of the ledger alone).
   */
  beginFence?(): number;
  /** Resolves with `beginFence()` once it is above `above`; undefined when the worker stops. */
  awaitBeginFence?(above: number): Promise<number | undefined>;
  /**
   * Whether the item is still ours (asked after a begin failed its fence check and the view caught
   * up); with `epoch`, whether it has been since a request of that ownership epoch was handed over.
   */
  owns?(job: string, item: number, epoch?: number): boolean;
  /**
   * Whether every move of the member node's version after `from` up to `to` is known to have taken
   * no run: the leader's (it writes assignments there) or our own writes of the node. A run fenced
   * at `from` then still holds its item at `to` without reading our ledger. Without it, never.
   */
  fenceMovesTookNoRun?(from: number, to: number): boolean;
}

/**
 * The fence of each run going on here: the version of our member node (see LedgerMember) known
 * when the run began, or verified since. A release or attempt record of the run checks that
 * version; when it moved, the run goes on only while our ledger still holds it (`confirmFence`).
 */
export class RunFences {
  private readonly byItem = new ItemMap<number>();
  /** How many items' runs hold each fence version (so that "all at the current version" is one look). */
  private readonly itemsAt = new Map<number, number>();

  constructor(private readonly member: LedgerMember) {}

  /** The member node's version as last known; undefined when runs are not fenced. */
  current(): number | undefined {
    return this.member.fenceVersion?.();
  }

  /** The version the item's run must check now; undefined when runs are not fenced. */
  of(job: string, item: number): number | undefined {
    const current = this.current();
    return current === undefined ? undefined : (this.byItem.get(job, item) ?? current);
  }

  /**
   * Whether every item's run is fenced at `version` (or none is fenced): then `of` answers
   * `version` for every item, which a batch of entries at an instant checks without looking each
   * item up (2,000 lookups an instant, most of them cache misses after a quiet second).
   */
  allAt(version: number): boolean {
    return this.itemsAt.size === 0 || (this.itemsAt.size === 1 && this.itemsAt.has(version));
  }

  /** The item's run began (or was found still ours) at member-node version `version`. */
  set(job: string, item: number, version: number): void {
    const was = this.byItem.get(job, item);
    if (was === version) return;
    if (was !== undefined) this.uncount(was);
    this.byItem.set(job, item, version);
    this.itemsAt.set(version, (this.itemsAt.get(version) ?? 0) + 1);
  }

  /** The item's run ended here (released, or no longer ours). */
  delete(job: string, item: number): void {
    const was = this.byItem.get(job, item);
    if (was === undefined) return;
    this.byItem.delete(job, item);
    this.uncount(was);
  }

  private uncount(version: number): void {
    const n = this.itemsAt.get(version)! - 1;
    if (n === 0) this.itemsAt.delete(version);
    else this.itemsAt.set(version, n);
  }

  /**
   * Moves the item's run to fence `to` when every move since its own fence is known to have taken
   * no run (see `LedgerMember.fenceMovesTookNoRun`); returns whether it did.
   */
  followIfNoRunTaken(job: string, item: number, to: number): boolean {
    const from = this.of(job, item);
    if (from === undefined || from > to || !this.member.fenceMovesTookNoRun?.(from, to)) return false;
    this.set(job, item, to);
    return true;
  }

  /** Reads the member node again after a check of it failed; undefined when runs are not fenced. */
  refresh(): Promise<number> | undefined {
    return this.member.refreshFence?.();
  }
}
