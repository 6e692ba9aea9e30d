import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NoNodeError } from '../zk/zk-errors.js';
import type { BatchedMultiHandlers, CommittedRequest } from '../zk/batched-multi.js';
import type { ZkOpResult, ZkTransaction, ZkTransactionError } from '../zk/zk-transaction.js';
import type { ZkStat } from '../zk/zk-stat.js';
import type { LedgerWriter } from './ledger-writer.js';
import { whenLive } from '../zk/when-live.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { encodeProgress, withOutcome, type ProgressRecord } from '../model/progress-record.js';
import { isoOf, isoOfDate, maxIso } from '../model/iso-time.js';
import { isMalformedDataError } from '../errors/malformed-data-error.js';
import type { Clock } from '../clock/clock.js';
import { bornAtOf, type CachedProgress, type FullCachedProgress, type ProgressCache } from './progress-cache.js';
import type { ItemHistoryWriter } from './item-history-writer.js';
import type { LedgerMember, RunFences } from './run-fences.js';
import { decideBegin } from './begin-decision.js';
import { withNotes, type FireNotes } from './fire-note.js';
import { withOwnLedger } from './own-ledger-view.js';
import type { RecordedNotesLog } from './recorded-notes-log.js';
import type { BeginRequest, BeginResult } from './begin-request.js';

/** What the begins work with: the ledger's session, member, cache, history writer and fences. */
export interface BeginParts {
  zk: ZkSession;
  /** Where the fires not run that a begin records are logged. */
  notesLog: RecordedNotesLog;
  /** Commits the begin multis, with our ledger's writes. */
  ledger: Pick<LedgerWriter, 'transaction' | 'commit' | 'partOf' | 'reserve' | 'change' | 'readInFlight' | 'flightOf' | 'claimOf'>;
  paths: ZkPaths;
  member: LedgerMember;
  fences: RunFences;
  progress: ProgressCache;
  histories: ItemHistoryWriter;
  /** Told the server's time of every begin multi (its `mtime`). */
  clock?: ServerClockObserver;
  time: Clock;
  log: Logger;
  /** A batch of `items` begins needed `multis` multis. */
  onSplit(items: number, multis: number): void;
  /** A job's schedule (the instant after a time): a begin records of its notes only the fires after the frontier. */
  scheduleOf?: (job: string) => ((after: Date) => Date) | undefined;
}

/** A begin request on its way: `i` is its place among the call's requests, the rest what the multi being sent makes of it. */
export interface PendingBegin {
  i: number;
  r: BeginRequest;
  part: number;
  cached?: CachedProgress;
  record?: ProgressRecord;
  notes?: FireNotes;
  history?: boolean;
  carries?: boolean;
  writes?: boolean;
  version?: number;
}

/**
 * The steps of one `RunBeginner.begin` call's multis (`commitBatched`): what each request writes,
 * and what each answer makes of the results. One object a call, its steps methods: a worker begins
 * 2,000 runs an instant at 1,000 jobs × 8 items, and steps made anew at each call as closures lost
 * their optimized code with them at every full collection, to be compiled again (15–24 ms each, on
 * a background thread that takes a core from the runs of an instant).
 */
export class BeginBatch implements BatchedMultiHandlers<PendingBegin> {
  /** The requests in the order of our ledger's parts, so that each multi of a split batch rewrites few of them. */
  readonly ordered: PendingBegin[];
  /** Set when our member node was found gone (or not ours to fence against any more): nothing more begins. */
  memberGone = false;
  private readonly member: { member: string; worker: string };
  private now = 0;
  private fenceAtBegin: number | undefined;
  private sent: number | undefined;
  private checkedFence: number | undefined;

  constructor(
    private readonly parts: BeginParts,
    requests: readonly BeginRequest[],
    /** Each request's result, by its place: set here as each is settled. */
    private readonly results: Array<BeginResult | undefined>,
  ) {
    this.member = { member: parts.member.name, worker: parts.member.workerId };
    this.ordered = requests.map((r, i) => ({ i, r, part: parts.ledger.partOf(r.job), cached: undefined, record: undefined, notes: undefined, history: undefined, carries: undefined, writes: undefined, version: undefined }));
    this.ordered.sort((a, b) => a.part - b.part || a.i - b.i);
  }

  /**
   * Every multi checks our membership node: a worker whose session is gone starts nothing; at the
   * version of the fence as of which our assignments are known (see LedgerMember.beginFence), so
   * that nothing the leader has moved away from us can be begun here.
   */
  prefix(tx: ZkTransaction): void {
    this.checkedFence = this.parts.member.beginFence?.();
    if (this.checkedFence !== undefined) this.fenceAtBegin = this.checkedFence;
    tx.check(this.parts.paths.member(this.parts.member.name), this.checkedFence ?? -1);
  }

  async prefixRejected(err: ZkTransactionError, pending: readonly PendingBegin[]): Promise<readonly PendingBegin[] | void> {
    const { member, fences, log } = this.parts;
    const checked = this.checkedFence;
    if (!(err.reason instanceof BadVersionError) || checked === undefined || !member.awaitBeginFence) {
      this.memberGone = true;
      return;
    }
    // Fenced: the leader moved items away from us (or an operator forced a remove). Once our
    // view of the assignments has caught up, what is still ours is begun again (see `add`).
    // The node is read again too: the watch on it may not have told us yet (a read that failed).
    await fences.refresh()?.catch(() => undefined);
    const now = await member.awaitBeginFence(checked);
    if (now === undefined) {
      this.memberGone = true;
      return;
    }
    log.debug({ from: checked, to: now, items: pending.length }, 'begin fenced: trying again once the assignments caught up');
    return pending;
  }

  /**
   * Loaded once; again only for items whose cache entry was dropped meanwhile (conflict, retire).
   * The entry read is kept with the request, so a drop between the read and the multi changes
   * nothing (the multi is version-checked against it). An item whose record cannot be read is left
   * alone: nothing is written to it.
   */
  async beforeRound(pending: readonly PendingBegin[]): Promise<void> {
    const { progress } = this.parts;
    const results = this.results;
    // A cached item is taken as it is, with no promise: a worker begins 2,000 runs an
    // instant at 1,000 jobs × 8 items, and an async function per item was 500 bytes of each.
    const unread: PendingBegin[] = [];
    for (const p of pending) {
      p.cached = progress.get(p.r.job, p.r.item);
      if (!p.cached) unread.push(p);
    }
    if (unread.length > 0) {
      await Promise.all(
        unread.map(async (p) => {
          try {
            await progress.load(p.r.job, p.r.item);
            p.cached = progress.get(p.r.job, p.r.item);
            // Dropped again before we looked (a retire, a lost history race): read it once more.
            if (!p.cached) await progress.load(p.r.job, p.r.item, true);
            p.cached ??= progress.get(p.r.job, p.r.item);
            if (!p.cached) results[p.i] = { status: 'error', error: new Error(`run ledger: the record of ${p.r.job}#${p.r.item} could not be kept`) };
          } catch (err) {
            if (!isMalformedDataError(err)) throw err;
            results[p.i] = { status: 'malformed', error: err };
          }
        }),
      );
    }
    this.now = this.parts.time.now();
    this.fenceAtBegin = this.parts.fences.current(); // the begin fence instead, when it is checked (`prefix`)
    this.sent = this.parts.clock?.localNow();
  }

  add(tx: ZkTransaction, p: PendingBegin): boolean {
    const { ledger, member, paths, progress, histories } = this.parts;
    const { r, cached } = p;
    if (this.results[p.i] !== undefined || !cached) return false;
    // Ours as the assignments stand at the fence this multi checks (the scheduler's view is
    // at least that recent): an item the leader moved away since is fenced off by the check.
    if (member.owns && !member.owns(r.job, r.item, r.epoch)) {
      this.results[p.i] = { status: 'gone' }; // moved away: its next owner fires it
      return false;
    }
    if (cached.version < 0) {
      this.results[p.i] = { status: 'gone' }; // no item node: the job or item was removed
      progress.delete(r.job, r.item);
      return false;
    }
    const fireTime = isoOfDate(r.fireTime);
    // A fire begun ahead of its instant (prepared) starts at its fire time.
    const startedAt = isoOf(Math.max(this.now, r.fireTime.getTime()));
    const decision = decideBegin(withOwnLedger(cached, ledger, member, r.job, r.item), r, this.member, startedAt, bornAtOf(cached), r.missed || r.skipped ? this.parts.scheduleOf?.(r.job) : undefined);
    if (decision.kind !== 'begin') {
      this.results[p.i] = { status: decision.kind };
      return false;
    }
    let record = decision.record;
    if (r.poison) {
      record = {
        ...decision.record, // its claim (BeginAsk.after) moves the frontier, as a begin's would
        inFlight: null,
        lastCompleted: maxIso(cached.record.lastCompleted, fireTime),
        outcome: 'failed',
        attempt: r.attempt - 1,
        worker: member.workerId,
        recent: withOutcome(cached.record.recent, { fireTime, outcome: 'failed', attempt: r.attempt - 1, worker: member.workerId, at: startedAt, error: r.poison.reason.slice(0, 500) }),
      };
    }
    const { notes } = decision;
    if (notes.missed || notes.skipped) record = { ...record, recent: withNotes(record.recent, notes, member.workerId, startedAt) };
    p.record = record;
    p.version = cached.version;
    p.notes = notes;
    p.history = !!(notes.missed || notes.skipped || r.poison);
    // The run is held by our ledger (the `f` bit this multi sets); the record carries it only
    // when the ledger cannot say all of it: a re-run, with the failovers that cut its fire short
    // (run protocol v2, step 4c). (A poisoned fire is recorded, not run: nothing is put in
    // flight. No run holds the item while its record is written: the item is ours, and runs
    // elsewhere were waited for.)
    p.carries = !!(r.rerun && record.inFlight);
    // The claim our ledger writes is the item's frontier (step 4c, second part): the record is
    // written only for what the ledger cannot say — a re-run, a poisoned fire, a trigger (its
    // `lastTrigger`), notes, a run the record carries to clear — and once after the item was
    // read (the first begin after a takeover carries into it the frontier and the runs it
    // adopted from other members' ledgers: that write supersedes their entries).
    p.writes = !!(r.rerun || r.poison || r.trigger !== undefined || p.history || cached.carriesRun || !cached.consolidated);
    if (p.writes) {
      const stored = p.carries ? record : { ...record, inFlight: cached.carriesRun ? null : undefined };
      tx.setData(paths.item(r.job, r.item), encodeProgress(stored, member.name), cached.version);
      if (p.history) histories.op(tx, r.job, r.item, cached, record.recent ?? []);
    }
    ledger.reserve(tx, r.job, r.item);
    return true;
  }

  /** Our ledger records the runs this multi begins (a poisoned fire is none). */
  suffix(tx: ZkTransaction, batch: readonly PendingBegin[]): void {
    const begun = batch.filter((p) => !p.r.poison).map(({ r }) => ({ job: r.job, item: r.item, fireMs: r.fireTime.getTime(), attempt: r.attempt, scheduled: !r.rerun && r.trigger === undefined }));
    this.parts.ledger.change(tx, { begun });
  }

  /** Our ledger was not as we knew it (an outcome we could not know): it is read again first. */
  suffixRejected(_err: ZkTransactionError, pending: readonly PendingBegin[]): readonly PendingBegin[] {
    return pending;
  }

  committed(done: ReadonlyArray<CommittedRequest<PendingBegin>>, rest: ZkOpResult[]): void {
    const { clock, progress, member, fences, notesLog } = this.parts;
    // Every op of a multi has its zxid (and time): a setData's answer says them (our ledger's, at least).
    const any = firstStat(done, rest);
    let multiToken: string | undefined;
    if (clock && this.sent !== undefined && any !== undefined) clock.observe(this.sent, clock.localNow(), any.mtime);
    for (const { request: p, results: out } of done) {
      const { r } = p;
      const stat = p.writes ? out[0]!.stat! : undefined;
      const prev = progress.get(r.job, r.item);
      const base = prev ?? p.cached!;
      // A begin that wrote only our ledger was not checked against the record: if the record
      // changed since its decision (only we write it: notes, a release, an attempt), what the
      // begin made is put onto the record as it is now.
      const moved = !stat && prev !== undefined && (prev !== p.cached || prev.version !== p.version);
      const record = moved ? { ...prev.record, lastScheduled: p.record!.lastScheduled === undefined ? prev.record.lastScheduled : maxIso(prev.record.lastScheduled, p.record!.lastScheduled), inFlight: p.record!.inFlight } : p.record!;
      progress.set(r.job, r.item, {
        record,
        // Not written: the record is as it was (our ledger has the claim and the run).
        version: stat ? stat.version : base.version,
        stamp: stat ? { mzxid: stat.mzxid, by: sequenceOf(member.name) } : base.stamp,
        createdAt: stat ? stat.ctime : base.createdAt,
        historyVersion: p.history ? (out[1]!.stat?.version ?? 0) : (prev?.historyVersion ?? -1),
        historyDirty: p.history ? false : prev?.historyDirty,
        historyDueAt: base.historyDueAt,
        retiring: base.retiring,
        carriesRun: stat ? p.carries : base.carriesRun,
        consolidated: true,
      } satisfies FullCachedProgress);
      const notes = p.notes!;
      // The run's fencing token: the zxid of the multi that began it (one string for those of
      // the multi that wrote only our ledger: most of them).
      const token = stat ? stat.mzxid.toString() : (multiToken ??= any!.mzxid.toString());
      this.results[p.i] = r.poison ? { status: 'poisoned', notes } : { status: 'started', token, notes };
      if (!r.poison && this.fenceAtBegin !== undefined) fences.set(r.job, r.item, this.fenceAtBegin);
      notesLog.recorded(r.job, r.item, notes);
    }
  }

  async rejected(p: PendingBegin, err: ZkTransactionError, opOffset: number): Promise<'retry' | 'drop'> {
    const { r } = p;
    const { progress } = this.parts;
    p.cached = undefined;
    if (p.history && opOffset === 1) {
      await progress.load(r.job, r.item, true); // the history changed or appeared meanwhile
    } else if (err.reason instanceof NoNodeError) this.results[p.i] = { status: 'gone' };
    else if (err.reason instanceof BadVersionError) await progress.load(r.job, r.item, true);
    else throw err;
    return this.results[p.i] === undefined ? 'retry' : 'drop';
  }

  /** Connection lost or no answer: the multi may or may not have been applied. */
  async unknown(sentRequests: readonly PendingBegin[]): Promise<readonly PendingBegin[]> {
    const found = await this.afterUnknownBegin(sentRequests);
    sentRequests.forEach((p, k) => {
      if (found[k] !== 'retry') this.results[p.i] = found[k]!;
      p.cached = undefined;
    });
    return sentRequests.filter((p) => this.results[p.i] === undefined);
  }

  /**
   * After a begin whose outcome is unknown: once reconnected, each item is `started` (our ledger has
   * this fire in flight: the multi was applied; the token is the progress record's mzxid) or `retry`
   * (not applied). If the session ended, `gone`: its runs went with it and the item's next owner
   * sees the fire in the progress record and our ledger.
   */
  private async afterUnknownBegin(requests: readonly PendingBegin[]): Promise<Array<BeginResult | 'retry'>> {
    const found = await whenLive(this.parts.zk, () => this.inspectBegin(requests));
    return found ?? requests.map(() => ({ status: 'gone' }));
  }

  /**
   * Whether each begin was applied: our ledger (read now) has its fire in flight. `notes`: what the
   * multi sent for the request was to record (what it recorded, if applied).
   */
  private async inspectBegin(requests: readonly PendingBegin[]): Promise<Array<BeginResult | 'retry'>> {
    const { ledger, progress, log } = this.parts;
    const flights = await ledger.readInFlight(requests.map(({ r }) => r));
    return Promise.all(
      requests.map(async ({ r, notes, record }, k): Promise<BeginResult | 'retry'> => {
        await progress.load(r.job, r.item, true);
        const flight = flights[k];
        if (flight?.fireMs !== r.fireTime.getTime() || flight.token === undefined) return 'retry';
        // Applied: what the begin made of the record is ours to know (it may have written only our ledger).
        const cached = progress.get(r.job, r.item);
        if (cached && record) cached.record = { ...record, recent: cached.record.recent };
        log.info({ job: r.job, item: r.item, fireTime: r.fireTime.toISOString() }, 'begin was applied before the connection dropped');
        return { status: 'started', token: flight.token.toString(), notes: notes ?? {} };
      }),
    );
  }
}

/** The first stat among a committed multi's results (its requests' ops, then its suffix's). */
function firstStat(done: ReadonlyArray<CommittedRequest<unknown>>, rest: readonly ZkOpResult[]): ZkStat | undefined {
  for (const d of done) for (const x of d.results) if (x.stat !== undefined) return x.stat;
  for (const x of rest) if (x.stat !== undefined) return x.stat;
  return undefined;
}
