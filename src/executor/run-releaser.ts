import { isConnectionTrouble } from '../zk/zk-errors.js';
import { commitBatched } from '../zk/batched-multi.js';
import { ReleaseBatch, settleRelease, type PendingRelease, type ReleaseParts } from './release-batch.js';
import type { ReleaseRequest } from './release-request.js';

/**
 * How long the first release waits for others to share its multi. Runs of one instant that end
 * together (within this window) cost one release transaction; a run stays in flight in our ledger
 * at most this much longer than its handler.
 */
const RELEASE_WINDOW_MS = 10;

/**
 * How many times a batch is written again after a connection drop (or when requests were left
 * unsent) before its releases are given up while the session still lives.
 */
const MAX_WRITE_PASSES = 20;

/**
 * Takes the ends of runs out of our ledger, and records in the item's record what others must know
 * of them (a failure, a run handed back, the end of a run the record carries; a success of a run
 * our ledger alone held writes our ledger only, and the item's history when due): the releases of
 * a RELEASE_WINDOW_MS window go out together (group commit: the runs of one instant end over
 * several event-loop turns), in as few multis as `commitBatched` fits them in. Each record write
 * is version-checked against the item's record as last read; every multi is fenced by our member
 * node's version (see `RunFences`); a release that is no longer ours writes nothing and resolves
 * false.
 */
export class RunReleaser {
  private queue: PendingRelease[] = [];
  private scheduled = false;

  constructor(private readonly parts: ReleaseParts) {}

  /** Queues the release; resolves whether it was written (false: we no longer held the run). */
  release(req: ReleaseRequest): Promise<boolean> {
    return new Promise((done) => this.releaseThen(req, done));
  }

  /**
   * Queues the release; `done` is told whether it was written, once, never in this turn (it
   * never throws). No promise: a worker releases 2,000 runs an instant at 1,000 jobs × 8 items,
   * and a promise, its resolving functions and a reaction on it were about 400 bytes of each, held
   * until the release's multi commits.
   */
  releaseThen(req: ReleaseRequest, done: (written: boolean) => void): void {
    // Every field from the start: one object, without a second array for the fields set later.
    this.queue.push({ req, done, record: undefined, base: undefined, history: undefined, writesRecord: undefined, createdAt: undefined, settled: undefined });
    if (!this.scheduled) {
      this.scheduled = true;
      this.parts.time.setTimeout(() => void this.flush(), RELEASE_WINDOW_MS);
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    // Runs from a timer: it must never reject. Whatever was not written resolves false.
    try {
      await this.writeWhileLive(batch);
    } catch (err) {
      this.parts.log.warn({ err, runs: batch.length }, 'could not record run outcomes');
    } finally {
      for (const p of batch) settleRelease(this.parts, p, false); // no effect on entries already settled
    }
  }

  /**
   * Writes the batch until every release in it is settled. A read or multi that meets a connection
   * drop must not cost a release: its run would stay in flight in our ledger as long as the session
   * lives, and the item's next owner would wait for it for good (fleet simulation, seed 36648: a
   * refused fence check, then a connection drop while reading our member node, gave a whole batch
   * up). What is not settled is written again once the session is usable; when the session ends
   * first, its runs in flight are the interrupted fires its items' next owners run again.
   */
  private async writeWhileLive(batch: PendingRelease[]): Promise<void> {
    const { zk, log } = this.parts;
    for (let pass = 1; ; pass++) {
      const pending = batch.filter((p) => !p.settled);
      if (pending.length === 0) return;
      if (!(await zk.waitLive(zk.leaseMs))) return; // the session ended (or the lease with it)
      try {
        if ((await this.write(pending)) === 'stop') return;
      } catch (err) {
        if (!isConnectionTrouble(err)) throw err;
        log.info({ err, runs: pending.length, pass }, 'connection dropped while recording run outcomes: writing them again once reconnected');
      }
      if (pass >= MAX_WRITE_PASSES) {
        log.warn({ runs: batch.filter((p) => !p.settled).length, passes: pass }, 'could not record run outcomes: giving up');
        return;
      }
    }
  }

  /** One pass over the batch (its steps: `ReleaseBatch`); 'stop' when nothing more can be written (our member node is gone). */
  private async write(batch: PendingRelease[]): Promise<'stop' | undefined> {
    const { ledger } = this.parts;
    // In the order of our ledger's parts, so that each multi of a split batch rewrites few of them.
    const ordered = batch.map((p, k) => ({ p, k, part: ledger.partOf(p.req.job) })).sort((a, b) => a.part - b.part || a.k - b.k).map(({ p }) => p);
    const steps = new ReleaseBatch(this.parts);
    const outcome = await commitBatched(ledger, ordered, steps);
    if (outcome.split) this.parts.onSplit(batch.length, outcome.multis, batch.filter((p) => p.history).length);
    return steps.stop ? 'stop' : undefined;
  }
}
