/** Moves of our member node's version remembered, at most (older ones read as unknown). */
const MOVES_KEPT = 1024;
/** Zxids of assignment writes remembered, at most. */
const ASSIGNMENT_ZXIDS_KEPT = 16_384;
/** Zxids of our own writes of the node remembered, at most (they are rare: a state, a clock reading). */
const OWN_ZXIDS_KEPT = 1024;

/**
 * Which moves of our member node's version took no run of ours. The leader fences a member in the
 * multi that writes the assignments moving items away from it, and takes no run of ours there; we
 * write the node ourselves (a state, a clock reading, the code we run), each write version-checked
 * against the version we knew, and take no run either; an operator's forced `remove`/`reshard`
 * fences in a multi that takes runs out of our ledger, and writes no assignment. So a move whose
 * write (its `mzxid`) also wrote an assignment this worker reads, or was our own write, took no run:
 * a run begun before it needs no read of our ledger to go on (at 10,000 jobs such reads, two per run
 * in flight at every publishing multi, held back the leader's own next publish on its session; a
 * clock reading published ahead of an instant made each of 2,000 runs read our ledger before its
 * handler, which entered them 0.6–0.8 s late). Any other move — a forced operation, one whose
 * assignments we have not read yet, one forgotten — reads as unknown, and the run reads our ledger
 * (`RunLedger.confirmFence`).
 */
export class FenceMoves {
  /** Version → the zxid of the write that made it, for moves not yet known to have taken no run. */
  private readonly unknown = new Map<number, bigint>();
  private readonly harmless = new Set<number>();
  private readonly assignmentZxids = new Set<bigint>();
  private readonly ownZxids = new Set<bigint>();

  /** An assignment this worker reads was written at `zxid` (its cache's `mzxid`). */
  assignmentWritten(zxid: bigint): void {
    remember(this.assignmentZxids, zxid, ASSIGNMENT_ZXIDS_KEPT);
  }

  /** We wrote our member node ourselves, at `zxid` (a version-checked write of what it holds). */
  ownWrite(zxid: bigint): void {
    remember(this.ownZxids, zxid, OWN_ZXIDS_KEPT);
  }

  /** Our member node reached `version` by the write at `mzxid`. */
  moved(version: number, mzxid: bigint): void {
    if (this.tookNone(mzxid)) this.harmless.add(version);
    else this.unknown.set(version, mzxid);
    for (const kept of [this.harmless, this.unknown]) {
      if (kept.size <= MOVES_KEPT) continue;
      const oldest = Math.min(...kept.keys());
      kept.delete(oldest);
    }
  }

  /** Whether every move after version `from` up to `to` is known to have taken no run (the leader's, or our own). */
  tookNoRun(from: number, to: number): boolean {
    if (to - from > MOVES_KEPT) return false;
    for (let v = from + 1; v <= to; v++) {
      if (this.harmless.has(v)) continue;
      // Its assignments may have been read, or our write's answer come, since the move was seen.
      const zxid = this.unknown.get(v);
      if (zxid === undefined || !this.tookNone(zxid)) return false;
      this.unknown.delete(v);
      this.harmless.add(v);
    }
    return true;
  }

  private tookNone(zxid: bigint): boolean {
    return this.assignmentZxids.has(zxid) || this.ownZxids.has(zxid);
  }
}

/** Adds `zxid` to `set`, dropping the oldest past `max`. */
function remember(set: Set<bigint>, zxid: bigint, max: number): void {
  set.add(zxid);
  if (set.size > max) set.delete(set.values().next().value!);
}
