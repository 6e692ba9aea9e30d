/** Moves of our member node's version remembered, at most (older ones read as unknown). */
const MOVES_KEPT = 1024;
/** Zxids of assignment writes remembered, at most. */
const ASSIGNMENT_ZXIDS_KEPT = 16_384;

/**
 * Which moves of our member node's version came from the leader. The leader fences a member in
 * the multi that writes the assignments moving items away from it, and takes no run of ours
 * there; an operator's forced `remove`/`reshard` fences in a multi that takes runs out of our
 * ledger and writes no assignment. So a move whose write (its `mzxid`) also wrote an assignment
 * this worker reads took no run of ours: a run begun before it needs no read of our ledger to go on
 * (at 10,000 jobs such reads, two per run in flight at every publishing multi, held back the
 * leader's own next publish on its session). A move not known to be the leader's (our own update,
 * a forced operation, one whose assignments we have not read yet, or one forgotten) reads as
 * unknown, and the run reads our ledger (`RunLedger.confirmFence`).
 */
export class FenceMoves {
  /** Version → the zxid of the write that made it, for moves not yet known to be the leader's. */
  private readonly unknown = new Map<number, bigint>();
  private readonly leaders = new Set<number>();
  private readonly assignmentZxids = new Set<bigint>();

  /** An assignment this worker reads was written at `zxid` (its cache's `mzxid`). */
  assignmentWritten(zxid: bigint): void {
    this.assignmentZxids.add(zxid);
    if (this.assignmentZxids.size > ASSIGNMENT_ZXIDS_KEPT) this.assignmentZxids.delete(this.assignmentZxids.values().next().value!);
  }

  /** Our member node reached `version` by the write at `mzxid`. */
  moved(version: number, mzxid: bigint): void {
    if (this.assignmentZxids.has(mzxid)) this.leaders.add(version);
    else this.unknown.set(version, mzxid);
    for (const kept of [this.leaders, this.unknown]) {
      if (kept.size <= MOVES_KEPT) continue;
      const oldest = Math.min(...kept.keys());
      kept.delete(oldest);
    }
  }

  /** Whether every move after version `from` up to `to` is known to be the leader's. */
  leaderOnly(from: number, to: number): boolean {
    if (to - from > MOVES_KEPT) return false;
    for (let v = from + 1; v <= to; v++) {
      if (this.leaders.has(v)) continue;
      // Its assignments may have been read since the move was seen.
      const zxid = this.unknown.get(v);
      if (zxid === undefined || !this.assignmentZxids.has(zxid)) return false;
      this.unknown.delete(v);
      this.leaders.add(v);
    }
    return true;
  }
}
