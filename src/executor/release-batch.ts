import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NodeExistsError, isConnectionTrouble } from '../zk/zk-errors.js';
import type { BatchedMultiHandlers, CommittedRequest, RejectedDecision } from '../zk/batched-multi.js';
import type { ZkTransaction, ZkTransactionError } from '../zk/zk-transaction.js';
import type { LedgerWriter } from './ledger-writer.js';
import { holdsRuns } from './holds-runs.js';
import { ownRun } from './own-ledger-view.js';
import { whenLive } from '../zk/when-live.js';
import { encodeProgress, withOutcome, type FullRecord, type ProgressRecord } from '../model/progress-record.js';
import type { Clock } from '../clock/clock.js';
import type { CachedProgress, FullCachedProgress, ProgressCache } from './progress-cache.js';
import type { ItemHistoryWriter } from './item-history-writer.js';
import type { RunFences } from './run-fences.js';
import { isoOf, isoOfDate, maxIso } from '../model/iso-time.js';
import type { ReleaseRequest } from './release-request.js';

/** What the releases work with: the ledger's session, cache, history writer and fences. */
export interface ReleaseParts {
  zk: ZkSession;
  /** Commits the release multis, with our ledger's writes. */
  ledger: Pick<LedgerWriter, 'transaction' | 'commit' | 'partOf' | 'reserve' | 'change' | 'forget' | 'readInFlight'>;
  paths: ZkPaths;
  /** Our member node's name and the worker id written into records. */
  member: { readonly name: string; readonly workerId: string };
  fences: RunFences;
  progress: ProgressCache;
  histories: ItemHistoryWriter;
  time: Clock;
  log: Logger;
  /** The releases of one batch needed `multis` multis (`histories` of them wrote their item's history). */
  onSplit(items: number, multis: number, histories: number): void;
}

/** A release on its way, with what the multi being sent makes of it. */
export interface PendingRelease {
  req: ReleaseRequest;
  done: (written: boolean) => void;
  /** The record and whether its history goes with it, as added to the multi being sent. */
  record?: ProgressRecord;
  /** The cached record `record` was made from (`committed` makes it again from a newer one). */
  base?: ProgressRecord;
  history?: boolean;
  /** Whether the multi being sent writes the item's record (else only our ledger, and the history if due). */
  writesRecord?: boolean;
  /** When the item's node was created, as known when the release was added (a node made anew is another item). */
  createdAt?: number;
  /** Resolved already (written, or not ours to write any more). */
  settled?: boolean;
}

/** Tells `p` whether it was written, once (no effect on a release settled already). */
export function settleRelease(parts: ReleaseParts, p: PendingRelease, written: boolean): void {
  if (p.settled) return;
  p.settled = true;
  parts.fences.delete(p.req.job, p.req.item);
  if (written && parts.progress.get(p.req.job, p.req.item)?.retiring) parts.progress.delete(p.req.job, p.req.item); // gone to another worker: reload if it comes back
  p.done(written);
}

/**
 * The steps of one pass of `RunReleaser` over a batch of releases (`commitBatched`): what each
 * release writes, and what each answer makes of it. One object a pass, its steps methods: a worker
 * releases 2,000 runs an instant at 1,000 jobs × 8 items, and steps made anew at each pass as
 * closures lost their optimized code with them at every full collection, to be compiled again
 * (15–24 ms each, on a background thread that takes a core from the runs of an instant).
 */
export class ReleaseBatch implements BatchedMultiHandlers<PendingRelease> {
  /** Set when nothing more can be written (our member node is gone). */
  stop = false;
  /** The round's time as the outcomes' `at` (`committed` comes before the next round's `beforeRound`). */
  private at = '';
  /** The member-node versions the runs of this round are fenced by (one check each, first in the multi). */
  private checks: number[] = [];
  /** The releases of this round that write their item's history with it (decided before the round). */
  private withHistory = new Set<PendingRelease>();

  constructor(private readonly parts: ReleaseParts) {}

  /**
   * An item whose cache entry is gone is read first: a release never writes a record it did not
   * read (an unconditional write would erase what the item's record holds). A connection drop here
   * is thrown to the releaser, which reads again once reconnected.
   */
  async beforeRound(pending: readonly PendingRelease[]): Promise<void> {
    const { progress, histories, fences, time } = this.parts;
    const unread = pending.filter(({ req }) => !progress.has(req.job, req.item));
    if (unread.length > 0) await Promise.all(unread.map(({ req }) => progress.load(req.job, req.item, true)));
    const now = time.now();
    this.at = isoOf(now);
    // Those that must write it, and of those only due by the interval a share (pickDue).
    const must: PendingRelease[] = [];
    const due: Array<{ request: PendingRelease; cached: CachedProgress }> = [];
    for (const p of pending) {
      const cached = p.settled ? undefined : progress.get(p.req.job, p.req.item);
      const history = cached && (p.req.recordOutcome ? 'now' : histories.withRelease(p.req.outcome, cached, now));
      if (history === 'now') must.push(p);
      else if (history === 'due') due.push({ request: p, cached: cached! });
    }
    this.withHistory = histories.pickDue(due, pending.length);
    for (const p of must) this.withHistory.add(p);
    const versions = pending.filter((p) => !p.settled).map(({ req }) => fences.of(req.job, req.item));
    this.checks = [...new Set(versions.filter((v) => v !== undefined))].sort((a, b) => a - b);
  }

  prefix(tx: ZkTransaction): void {
    const path = this.parts.paths.member(this.parts.member.name);
    for (const v of this.checks) tx.check(path, v);
  }

  add(tx: ZkTransaction, p: PendingRelease): boolean {
    if (p.settled) return false;
    const { progress, member, paths, histories, ledger } = this.parts;
    const { req } = p;
    const cached = progress.get(req.job, req.item);
    if (!cached || cached.version < 0) {
      this.refuse(p, 'item gone before release; outcome not recorded');
      return false;
    }
    p.base = cached.record;
    p.record = releasedRecord(cached.record, req, member, this.at);
    p.history = this.withHistory.has(p);
    // A success of a run our ledger alone held ends there (run protocol v2, step 4c): its
    // outcome reaches the item's history (with this release when due, else within the
    // history interval). What others must know is written to the record: a failure, a run
    // handed back, the end of a run the record carries, a manual trigger's outcome.
    p.writesRecord = req.outcome !== 'success' || req.keepInFlight || !!cached.carriesRun || !!req.recordOutcome;
    p.createdAt = cached.createdAt;
    if (p.writesRecord) tx.setData(paths.item(req.job, req.item), encodeProgress(p.record, member.name), cached.version);
    if (p.history) histories.op(tx, req.job, req.item, cached, p.record.recent ?? []);
    ledger.reserve(tx, req.job, req.item);
    return true;
  }

  /** Our ledger records the runs this multi ends. */
  suffix(tx: ZkTransaction, sent: readonly PendingRelease[]): void {
    this.parts.ledger.change(tx, { ended: sent.map(({ req }) => ({ job: req.job, item: req.item, fireMs: req.fireTime.getTime() })) });
  }

  /** Our ledger was not as we knew it (an outcome we could not know): it is read again first. */
  suffixRejected(_err: ZkTransactionError, pending: readonly PendingRelease[]): readonly PendingRelease[] {
    return pending.filter((p) => !p.settled);
  }

  committed(done: ReadonlyArray<CommittedRequest<PendingRelease>>): void {
    const { progress, member, histories } = this.parts;
    for (const { request: p, results } of done) {
      const { job, item } = p.req;
      const stat = p.writesRecord ? results[0]!.stat! : undefined;
      const historyResult = p.history ? results[p.writesRecord ? 1 : 0] : undefined;
      const prev = progress.get(job, item);
      // A release that wrote no record keeps what the cache learned while it was on its way
      // (notes recorded, a frontier moved: fleet simulation, seed 15902, where a success
      // installed the record it was made from and the next begin recorded the notes again).
      const record = !stat && prev && prev.record !== p.base ? releasedRecord(prev.record, p.req, member, this.at) : p.record!;
      progress.set(job, item, {
        record,
        // Not written: the record in ZooKeeper is as it was (our cache knows the outcome).
        version: stat ? stat.version : (prev?.version ?? -1),
        stamp: stat ? { mzxid: stat.mzxid, by: sequenceOf(member.name) } : prev?.stamp,
        createdAt: stat ? stat.ctime : prev?.createdAt,
        historyVersion: historyResult ? (historyResult.stat?.version ?? 0) : (prev?.historyVersion ?? -1),
        historyDirty: !p.history,
        historyDueAt: p.history ? histories.nextDueAt() : prev?.historyDueAt,
        retiring: prev?.retiring,
        carriesRun: stat ? p.req.keepInFlight : prev?.carriesRun,
        // A record we wrote from what we know of the item (our claims with it).
        consolidated: stat ? true : prev?.consolidated,
      } satisfies FullCachedProgress);
      settleRelease(this.parts, p, true);
    }
  }

  async rejected(p: PendingRelease, err: ZkTransactionError, opOffset: number): Promise<RejectedDecision> {
    const { progress, ledger } = this.parts;
    const { req } = p;
    const onHistory = opOffset === (p.writesRecord ? 1 : 0);
    if (err.reason instanceof BadVersionError || (onHistory && err.reason instanceof NodeExistsError)) {
      // Someone else wrote the item since our begin. Retry only while our ledger still holds
      // this run: otherwise the item moved on (a forced remove or reshard made it anew and
      // took the run) and our release must write nothing.
      const record = await progress.load(req.job, req.item, true).catch((e: unknown) => {
        if (isConnectionTrouble(e)) throw e; // read again after reconnecting (`RunReleaser`)
        return undefined;
      });
      if (onHistory) return 'retry';
      // The same item (not one made anew by a forced remove or reshard) whose run our ledger still holds.
      const sameItem = record !== undefined && progress.get(req.job, req.item)?.createdAt === p.createdAt;
      const [held] = sameItem ? await holdsRuns(ledger, [req]) : [false];
      if (held) return 'retry';
      this.refuse(p, 'our ledger no longer holds this run; outcome not recorded');
      return 'drop';
    }
    // The item is gone: we no longer hold the run, so we must not write.
    this.refuse(p, 'item gone before release; outcome not recorded', err);
    return 'drop';
  }

  async prefixRejected(err: ZkTransactionError, pending: readonly PendingRelease[]): Promise<readonly PendingRelease[] | void> {
    const { fences, ledger, progress, log } = this.parts;
    // Our member node changed since we last knew it: our own update, or a forced remove or
    // reshard that took runs of ours (cleared from our ledger in the multi that moved it). Read
    // it again, then keep only the releases whose run our ledger still holds (read after it, so
    // they see every such clearing up to it).
    const refreshed = err.reason instanceof BadVersionError ? fences.refresh() : undefined;
    if (!refreshed) {
      log.warn({ err, runs: pending.length }, 'could not record run outcomes: our membership node is gone');
      this.stop = true;
      return;
    }
    const fenceNow = await refreshed;
    // Moves that were all the leader's or our own took no run: those runs are fenced anew unread.
    const stale = pending.filter(({ req }) => (fences.of(req.job, req.item) ?? fenceNow) < fenceNow && !fences.followIfNoRunTaken(req.job, req.item, fenceNow));
    const held = await holdsRuns(ledger, stale.map((p) => p.req));
    stale.forEach((p, k) => {
      if (held[k]) return fences.set(p.req.job, p.req.item, fenceNow); // still ours at this version
      this.refuse(p, 'run taken by a forced remove or reshard; outcome not recorded');
      progress.delete(p.req.job, p.req.item); // the item was made anew or is gone: read it again when needed
    });
    return pending.filter((p) => !p.settled);
  }

  /** Connection lost or no answer: a release whose run our ledger no longer holds was applied; the others go again. */
  async unknown(sent: readonly PendingRelease[]): Promise<readonly PendingRelease[] | 'stop'> {
    const { zk, progress, ledger } = this.parts;
    const held = await whenLive(zk, async () => {
      await Promise.all(sent.map(({ req }) => progress.load(req.job, req.item, true)));
      return holdsRuns(ledger, sent.map((p) => p.req));
    });
    if (held === undefined) return 'stop'; // the session ended: its runs are its items' next owners' to run again
    sent.forEach((p, k) => {
      if (held[k]) return;
      // Our release was applied, or a forced remove or reshard took the run meanwhile (fleet
      // simulation, seed 2647): either way the run is over, and so is our local account of it.
      ledger.forget(p.req.job, p.req.item, p.req.fireTime.getTime());
      settleRelease(this.parts, p, true);
    });
    return sent.filter((p) => !p.settled);
  }

  /** A release that will not be written: the run's outcome is not ours to record any more. */
  private refuse(p: PendingRelease, message: string, err?: unknown): void {
    this.parts.log.warn({ job: p.req.job, item: p.req.item, err }, message);
    this.parts.ledger.forget(p.req.job, p.req.item, p.req.fireTime.getTime()); // taken: so goes its entry in our ledger
    settleRelease(this.parts, p, false);
  }
}

/**
 * The item's record once the release of `req` is written over `base`: the run out of flight (or
 * kept there, handed back), its outcome, and its entry in the recent list.
 */
function releasedRecord(base: ProgressRecord, req: ReleaseRequest, member: { readonly name: string; readonly workerId: string }, at: string): ProgressRecord {
  const fireTime = isoOfDate(req.fireTime);
  const finished = req.outcome !== 'interrupted';
  const durationMs = Math.max(0, req.durationMs); // never a record the decoders refuse
  const fireMs = req.fireTime.getTime();
  // Our run, as the record (or, when it does not say it, our release) knows it.
  const run = ownRun(base, member, fireMs, { fireMs, attempt: req.attempt })!;
  return {
    lastScheduled: base.lastScheduled,
    lastTrigger: base.lastTrigger,
    lastCompleted: finished ? maxIso(base.lastCompleted, fireTime) : base.lastCompleted,
    // Kept for the next owner, marked as handed back (a shutdown, not a lost owner).
    inFlight: req.keepInFlight ? { ...run, interrupted: true } : null,
    outcome: req.outcome,
    attempt: req.attempt,
    durationMs,
    worker: member.workerId,
    by: base.by,
    recent: withOutcome(base.recent, { fireTime, outcome: req.outcome, attempt: req.attempt, worker: member.workerId, durationMs, error: req.error, at, startedAt: run.startedAt }),
  } satisfies FullRecord;
}
