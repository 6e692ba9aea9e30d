import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NoNodeError } from '../zk/zk-errors.js';
import { commitBatched, type CommittedRequest } from '../zk/batched-multi.js';
import type { ZkOpResult } from '../zk/zk-transaction.js';
import type { ZkStat } from '../zk/zk-stat.js';
import type { LedgerWriter } from './ledger-writer.js';
import { whenLive } from '../zk/when-live.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { encodeProgress, withOutcome, type ProgressRecord } from '../model/progress-record.js';
import { isoOf, isoOfDate, maxIso } from '../model/iso-time.js';
import { isMalformedDataError, type MalformedDataError } from '../errors/malformed-data-error.js';
import type { Clock } from '../clock/clock.js';
import { bornAtOf, type CachedProgress, type ProgressCache } from './progress-cache.js';
import type { ItemHistoryWriter } from './item-history-writer.js';
import type { LedgerMember, RunFences } from './run-fences.js';
import { decideBegin, type BeginAsk } from './begin-decision.js';
import { withNotes, type FireNotes } from './fire-note.js';
import { withOwnLedger } from './own-ledger-view.js';
import type { RecordedNotesLog } from './recorded-notes-log.js';

export interface BeginRequest extends BeginAsk {
  job: string;
  item: number;
  /**
   * Do not run this fire left in flight: record it as failed (its runs took down `failovers`
   * owners, more than the job's `maxFailovers`). Valid like a re-run (`rerun` must be set).
   */
  poison?: { reason: string };
}


export type BeginResult =
  /** `notes`: the fires not run this begin recorded (the request's, less those accounted for already). */
  | { status: 'started'; token: string; notes: FireNotes }
  /** The item (or our membership) no longer exists. */
  | { status: 'gone' }
  /** This fire (or a later one) was already taken on: never run a fire twice. */
  | { status: 'duplicate' }
  /**
   * A fire is left in flight by a run that did not end, and this request does not continue it:
   * nothing was written; the item must be taken over first (see `decideBegin`).
   */
  | { status: 'takeover' }
  /** A `poison` request: the fire left in flight is recorded as failed, not run. */
  | { status: 'poisoned'; notes: FireNotes }
  /** The begin failed unexpectedly for this request: nothing was started for it. */
  | { status: 'error'; error: unknown }
  /** The item's progress record cannot be read: it is left alone (never written, never run). */
  | { status: 'malformed'; error: MalformedDataError };

/** What a `RunBeginner` works with: the ledger's session, member, cache, history writer and fences. */
export interface RunBeginnerParts {
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

/**
 * The begin half of the run protocol (the release half is `RunReleaser`): puts each fire of the
 * items firing at one instant in flight in our ledger, through our ledger writer (run protocol v2:
 * the ledger's `f` bit holds the run), and moves each item's frontier in its record (which carries
 * the run itself only when it is a re-run) — in as few multis as the request size allows, each
 * checking our member node at the begin fence. Two runs of an
 * item never overlap because only its owner begins it (the fence), never while a run of it is
 * going on here (the executor's lanes), and a new owner waits for the old one's run to leave its
 * ledger (`ItemTakeovers`).
 */
export class RunBeginner {
  private readonly zk: ZkSession;
  private readonly ledger: RunBeginnerParts['ledger'];
  private readonly paths: ZkPaths;
  private readonly member: LedgerMember;
  private readonly fences: RunFences;
  private readonly progress: ProgressCache;
  private readonly histories: ItemHistoryWriter;
  private readonly clock: ServerClockObserver | undefined;
  private readonly time: Clock;
  private readonly log: Logger;
  private readonly notesLog: RecordedNotesLog;
  private readonly onSplit: (items: number, multis: number) => void;
  private readonly scheduleOf: RunBeginnerParts['scheduleOf'];

  constructor(parts: RunBeginnerParts) {
    ({ zk: this.zk, ledger: this.ledger, paths: this.paths, member: this.member, fences: this.fences, progress: this.progress, histories: this.histories, clock: this.clock, time: this.time, log: this.log, onSplit: this.onSplit, scheduleOf: this.scheduleOf, notesLog: this.notesLog } = parts);
  }

  private load(job: string, item: number, refresh = false): Promise<ProgressRecord> {
    return this.progress.load(job, item, refresh);
  }

  /**
   * Records each fire as in flight: as many items per multi as fit in the client's
   * `maxRequestBytes` (one multi for a few thousand items at the default size), the rest in the
   * next ones.
   */
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    const results: Array<BeginResult | undefined> = new Array(requests.length);
    try {
      await this.beginRounds(requests, results);
    } catch (err) {
      // Never leave an item stuck: what began is in flight in our ledger and is run (and released)
      // by the caller; the rest did not begin, and is reported so that the caller records it.
      const failed = requests.filter((_, i) => results[i] === undefined).length;
      this.log.error({ err, items: failed }, 'could not begin runs');
      for (let i = 0; i < requests.length; i++) results[i] ??= { status: 'error', error: err };
    }
    return results.map((r) => r ?? { status: 'gone' });
  }

  private async beginRounds(requests: readonly BeginRequest[], results: Array<BeginResult | undefined>): Promise<void> {
    type Pending = { i: number; r: BeginRequest; part: number; cached?: CachedProgress; record?: ProgressRecord; notes?: FireNotes; history?: boolean; carries?: boolean; writes?: boolean; version?: number };
    const member = { member: this.member.name, worker: this.member.workerId };
    let now = 0;
    let fenceAtBegin: number | undefined;
    let sent: number | undefined;
    let memberGone = false;
    let checkedFence: number | undefined;
    // In the order of our ledger's parts, so that each multi of a split batch rewrites few of them.
    const ordered: Pending[] = requests.map((r, i) => ({ i, r, part: this.ledger.partOf(r.job), cached: undefined, record: undefined, notes: undefined, history: undefined, carries: undefined, writes: undefined, version: undefined }));
    ordered.sort((a, b) => a.part - b.part || a.i - b.i);
    const outcome = await commitBatched<Pending>(this.ledger, ordered, {
      // Every multi checks our membership node: a worker whose session is gone starts nothing; at
      // the version of the fence as of which our assignments are known (see LedgerMember.beginFence),
      // so that nothing the leader has moved away from us can be begun here.
      prefix: (tx) => {
        checkedFence = this.member.beginFence?.();
        if (checkedFence !== undefined) fenceAtBegin = checkedFence;
        tx.check(this.paths.member(this.member.name), checkedFence ?? -1);
      },
      prefixRejected: async (err, pending) => {
        if (!(err.reason instanceof BadVersionError) || checkedFence === undefined || !this.member.awaitBeginFence) {
          memberGone = true;
          return;
        }
        // Fenced: the leader moved items away from us (or an operator forced a remove). Once our
        // view of the assignments has caught up, what is still ours is begun again (see `add`).
        // The node is read again too: the watch on it may not have told us yet (a read that failed).
        await this.fences.refresh()?.catch(() => undefined);
        const now = await this.member.awaitBeginFence(checkedFence);
        if (now === undefined) {
          memberGone = true;
          return;
        }
        this.log.debug({ from: checkedFence, to: now, items: pending.length }, 'begin fenced: trying again once the assignments caught up');
        return pending;
      },
      beforeRound: async (pending) => {
        // Loaded once; again only for items whose cache entry was dropped meanwhile (conflict,
        // retire). The entry read is kept with the request, so a drop between the read and the
        // multi changes nothing (the multi is version-checked against it). An item whose record
        // cannot be read is left alone: nothing is written to it.
        // A cached item is taken as it is, with no promise: a worker begins 2,000 runs an
        // instant at 1,000 jobs × 8 items, and an async function per item was 500 bytes of each.
        const unread: Pending[] = [];
        for (const p of pending) {
          p.cached = this.progress.get(p.r.job, p.r.item);
          if (!p.cached) unread.push(p);
        }
        if (unread.length > 0) {
          await Promise.all(
            unread.map(async (p) => {
              try {
                await this.load(p.r.job, p.r.item);
                p.cached = this.progress.get(p.r.job, p.r.item);
                // Dropped again before we looked (a retire, a lost history race): read it once more.
                if (!p.cached) await this.load(p.r.job, p.r.item, true);
                p.cached ??= this.progress.get(p.r.job, p.r.item);
                if (!p.cached) results[p.i] = { status: 'error', error: new Error(`run ledger: the record of ${p.r.job}#${p.r.item} could not be kept`) };
              } catch (err) {
                if (!isMalformedDataError(err)) throw err;
                results[p.i] = { status: 'malformed', error: err };
              }
            }),
          );
        }
        now = this.time.now();
        fenceAtBegin = this.fences.current(); // the begin fence instead, when it is checked (`prefix`)
        sent = this.clock?.localNow();
      },
      add: (tx, p) => {
        const { r, cached } = p;
        if (results[p.i] !== undefined || !cached) return false;
        // Ours as the assignments stand at the fence this multi checks (the scheduler's view is
        // at least that recent): an item the leader moved away since is fenced off by the check.
        if (this.member.owns && !this.member.owns(r.job, r.item, r.epoch)) {
          results[p.i] = { status: 'gone' }; // moved away: its next owner fires it
          return false;
        }
        if (cached.version < 0) {
          results[p.i] = { status: 'gone' }; // no item node: the job or item was removed
          this.progress.delete(r.job, r.item);
          return false;
        }
        const fireTime = isoOfDate(r.fireTime);
        // A fire begun ahead of its instant (prepared) starts at its fire time.
        const startedAt = isoOf(Math.max(now, r.fireTime.getTime()));
        const decision = decideBegin(withOwnLedger(cached, this.ledger, this.member, r.job, r.item), r, member, startedAt, bornAtOf(cached), r.missed || r.skipped ? this.scheduleOf?.(r.job) : undefined);
        if (decision.kind !== 'begin') {
          results[p.i] = { status: decision.kind };
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
            worker: this.member.workerId,
            recent: withOutcome(cached.record.recent, { fireTime, outcome: 'failed', attempt: r.attempt - 1, worker: this.member.workerId, at: startedAt, error: r.poison.reason.slice(0, 500) }),
          };
        }
        const { notes } = decision;
        if (notes.missed || notes.skipped) record = { ...record, recent: withNotes(record.recent, notes, this.member.workerId, startedAt) };
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
          tx.setData(this.paths.item(r.job, r.item), encodeProgress(stored, this.member.name), cached.version);
          if (p.history) this.histories.op(tx, r.job, r.item, cached, record.recent ?? []);
        }
        this.ledger.reserve(tx, r.job, r.item);
        return true;
      },
      // Our ledger records the runs this multi begins (a poisoned fire is none).
      suffix: (tx, batch) => {
        const begun = batch.filter((p) => !p.r.poison).map(({ r }) => ({ job: r.job, item: r.item, fireMs: r.fireTime.getTime(), attempt: r.attempt, scheduled: !r.rerun && r.trigger === undefined }));
        this.ledger.change(tx, { begun });
      },
      // Our ledger was not as we knew it (an outcome we could not know): it is read again first.
      suffixRejected: (_err, pending) => pending,
      committed: (done, rest) => {
        // Every op of a multi has its zxid (and time): a setData's answer says them (our ledger's, at least).
        const any = firstStat(done, rest);
        if (this.clock && sent !== undefined && any !== undefined) this.clock.observe(sent, this.clock.localNow(), any.mtime);
        for (const { request: p, results: out } of done) {
          const { r } = p;
          const stat = p.writes ? out[0]!.stat! : undefined;
          const prev = this.progress.get(r.job, r.item);
          const base = prev ?? p.cached!;
          // A begin that wrote only our ledger was not checked against the record: if the record
          // changed since its decision (only we write it: notes, a release, an attempt), what the
          // begin made is put onto the record as it is now.
          const moved = !stat && prev !== undefined && (prev !== p.cached || prev.version !== p.version);
          const record = moved ? { ...prev.record, lastScheduled: p.record!.lastScheduled === undefined ? prev.record.lastScheduled : maxIso(prev.record.lastScheduled, p.record!.lastScheduled), inFlight: p.record!.inFlight } : p.record!;
          this.progress.set(r.job, r.item, {
            ...base,
            record,
            // Not written: the record is as it was (our ledger has the claim and the run).
            version: stat ? stat.version : base.version,
            stamp: stat ? { mzxid: stat.mzxid, by: sequenceOf(this.member.name) } : base.stamp,
            createdAt: stat ? stat.ctime : base.createdAt,
            historyVersion: p.history ? (out[1]!.stat?.version ?? 0) : (prev?.historyVersion ?? -1),
            historyDirty: p.history ? false : prev?.historyDirty,
            carriesRun: stat ? p.carries : base.carriesRun,
            consolidated: true,
          });
          const notes = p.notes!;
          // The run's fencing token: the zxid of the multi that began it.
          const token = (stat ?? any)!.mzxid.toString();
          results[p.i] = r.poison ? { status: 'poisoned', notes } : { status: 'started', token, notes };
          if (!r.poison && fenceAtBegin !== undefined) this.fences.set(r.job, r.item, fenceAtBegin);
          this.notesLog.recorded(r.job, r.item, notes);
        }
      },
      rejected: async (p, err, opOffset) => {
        const { r } = p;
        p.cached = undefined;
        if (p.history && opOffset === 1) {
          await this.load(r.job, r.item, true); // the history changed or appeared meanwhile
        } else if (err.reason instanceof NoNodeError) results[p.i] = { status: 'gone' };
        else if (err.reason instanceof BadVersionError) await this.load(r.job, r.item, true);
        else throw err;
        return results[p.i] === undefined ? 'retry' : 'drop';
      },
      // Connection lost or no answer: the multi may or may not have been applied.
      unknown: async (sentRequests) => {
        const found = await this.afterUnknownBegin(sentRequests);
        sentRequests.forEach((p, k) => {
          if (found[k] !== 'retry') results[p.i] = found[k]!;
          p.cached = undefined;
        });
        return sentRequests.filter((p) => results[p.i] === undefined);
      },
    }, { maxRounds: requests.length + 5 });
    // The membership check failed (our node is gone: the session ended), or the rounds ran out.
    const left = outcome.unsent.filter((p) => results[p.i] === undefined);
    if (left.length > 0 && !memberGone) throw new Error('run ledger: begin did not settle');
    for (const p of left) results[p.i] = { status: 'gone' };
    if (outcome.split) this.onSplit(requests.length, outcome.multis);
  }

  /**
   * After a begin whose outcome is unknown: once reconnected, each item is `started` (our ledger has
   * this fire in flight: the multi was applied; the token is the progress record's mzxid) or `retry`
   * (not applied). If the session ended, `gone`: its runs went with it and the item's next owner
   * sees the fire in the progress record and our ledger.
   */
  private async afterUnknownBegin(requests: ReadonlyArray<{ r: BeginRequest; notes?: FireNotes; record?: ProgressRecord }>): Promise<Array<BeginResult | 'retry'>> {
    const found = await whenLive(this.zk, () => this.inspectBegin(requests));
    return found ?? requests.map(() => ({ status: 'gone' }));
  }

  /**
   * Whether each begin was applied: our ledger (read now) has its fire in flight. `notes`: what the
   * multi sent for the request was to record (what it recorded, if applied).
   */
  private async inspectBegin(requests: ReadonlyArray<{ r: BeginRequest; notes?: FireNotes; record?: ProgressRecord }>): Promise<Array<BeginResult | 'retry'>> {
    const flights = await this.ledger.readInFlight(requests.map(({ r }) => r));
    return Promise.all(
      requests.map(async ({ r, notes, record }, k): Promise<BeginResult | 'retry'> => {
        await this.load(r.job, r.item, true);
        const flight = flights[k];
        if (flight?.fireMs !== r.fireTime.getTime() || flight.token === undefined) return 'retry';
        // Applied: what the begin made of the record is ours to know (it may have written only our ledger).
        const cached = this.progress.get(r.job, r.item);
        if (cached && record) cached.record = { ...record, recent: cached.record.recent };
        this.log.info({ job: r.job, item: r.item, fireTime: r.fireTime.toISOString() }, 'begin was applied before the connection dropped');
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
