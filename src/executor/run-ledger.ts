import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../zk/zk-errors.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { encodeProgress, type InFlightRun, type ProgressRecord } from '../model/progress-record.js';
import { ProgressCache, bornAtOf } from './progress-cache.js';
import { ItemHistoryWriter } from './item-history-writer.js';
import { notesAfter, withNotes, type FireNote, type FireNotes } from './fire-note.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import { systemClock, type Clock } from '../clock/clock.js';
import { RunFences, type LedgerMember } from './run-fences.js';
import { RunReleaser } from './run-releaser.js';
import type { ReleaseRequest } from './release-request.js';
import { RunBeginner } from './run-beginner.js';
import type { BeginRequest, BeginResult } from './begin-request.js';
import type { RecordStamp } from '../model/ledger-view.js';
import type { LedgerFlight } from '../model/member-ledger.js';
import { LedgerWriter } from './ledger-writer.js';
import { LeftClaims } from './left-claims.js';
import { ownRun, withOwnLedger } from './own-ledger-view.js';
import { holdsRuns } from './holds-runs.js';
import { FenceConfirmations } from './fence-confirmations.js';
import { RecordedNotesLog } from './recorded-notes-log.js';

export type { LedgerMember } from './run-fences.js';
export type { ReleaseRequest, RunReport } from './release-request.js';
export type { BeginRequest, BeginResult } from './begin-request.js';

/** Tries of `recordNotes` against an item that keeps changing under it. */
const NOTE_WRITE_ROUNDS = 5;

function describeNotes(notes: FireNotes): Record<string, { count: number; latest: string }> {
  const out: Record<string, { count: number; latest: string }> = {};
  for (const [k, n] of Object.entries(notes) as Array<[string, FireNote | undefined]>) if (n) out[k] = { count: n.count, latest: n.latest.toISOString() };
  return out;
}

/**
 * The run protocol's ZooKeeper side. `begin` records each fire of the items firing at one instant
 * as in flight — in the item records and our ledger — in one transaction (`RunBeginner`); `release`
 * records outcomes and takes the runs out of our ledger, batching the releases of a 10 ms window into one transaction
 * (`RunReleaser`); the rest is here: notes of fires not run, attempts, fences, retiring items. The
 * cost is two transactions per fire instant, whatever the number of items, as long as they fit in
 * one request (`maxRequestBytes`: about 2,700 items at ZooKeeper's default `jute.maxbuffer`; each
 * further multiple takes one more multi). Each `begin` also checks our membership node, so a
 * worker whose session is gone cannot start anything.
 */
export class RunLedger {
  private readonly progress: ProgressCache;
  private readonly histories: ItemHistoryWriter;
  private readonly fences: RunFences;
  private readonly releaser: RunReleaser;
  private readonly beginner: RunBeginner;
  private readonly writer: LedgerWriter;
  private readonly confirmations: FenceConfirmations;
  private readonly leftClaims: LeftClaims;
  private readonly notesLog: RecordedNotesLog;
  /** Told of notes of fires not run that `recordNotes` wrote (the run history; a begin's are the executor's). */
  onNotesRecorded: ((job: string, item: number, notes: FireNotes) => void) | undefined;
  /**
   * A job's schedule (the instant after a time), to record of a note only its fires after the
   * item's frontier (`noteAfter`). Unset or undefined: such a note is recorded whole.
   */
  scheduleOf: ((job: string) => ((after: Date) => Date) | undefined) | undefined;
  /**
   * Whether the item fires here within `withinMs` (the scheduler's word): its due history is then
   * left to that run's release rather than swept. Unset: never (the sweep writes every due history).
   */
  firesWithin: ((job: string, item: number, withinMs: number) => boolean) | undefined;
  /** When a batch of begins, or of releases, last needed more than one multi was logged (see `noteSplit`). */
  private readonly splitLoggedAt = { begin: 0, release: 0 };

  /**
   * @param clock told the server's time of every begin multi (its `mtime`), so that the clock
   *   check needs no write of its own while the worker fires
   */
  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly member: LedgerMember,
    private readonly log: Logger,
    clock?: ServerClockObserver,
    /** Time and timers. @default systemClock */
    private readonly time: Clock = systemClock,
    /** Source of randomness in [0, 1) for the first history write's jitter (seeded in the simulation). */
    random: () => number = Math.random,
  ) {
    this.notesLog = new RecordedNotesLog(log, time);
    this.progress = new ProgressCache(zk, paths, log, () => this.time.now() + random() * this.histories.intervalMs());
    this.histories = new ItemHistoryWriter(zk, paths, this.progress, (cached) => cached.record.inFlight?.member === this.member.name, log, time, (job, item, withinMs) => this.firesWithin?.(job, item, withinMs) ?? false);
    this.fences = new RunFences(member);
    this.writer = new LedgerWriter({ zk, paths, member, time, log });
    this.confirmations = new FenceConfirmations(this.fences, this.writer);
    this.leftClaims = new LeftClaims({ zk, ledger: this.writer, paths, member, time, log });
    const shared = { zk, ledger: this.writer, paths, member, fences: this.fences, progress: this.progress, histories: this.histories, time, log };
    this.beginner = new RunBeginner({ ...shared, notesLog: this.notesLog, clock, scheduleOf: (job) => this.scheduleOf?.(job), onSplit: (items, multis) => this.noteSplit('begin', items, multis) });
    this.releaser = new RunReleaser({ ...shared, onSplit: (items, multis, histories) => this.noteSplit('release', items, multis, { histories }) });
  }

  /** Told of every malformed record found (for the worker's `zkshard_malformed_records_total`). */
  set onMalformed(fn: ((err: MalformedDataError) => void) | undefined) {
    this.progress.onMalformed = fn;
  }

  /** Starts the history sweep (see HISTORY_WRITE_INTERVAL_MS). */
  start(): void {
    this.histories.start();
  }

  /** Stops the sweep and the ledger writer's timer. Idempotent. */
  close(): void {
    this.histories.close();
    this.leftClaims.close();
    this.writer.close();
  }

  /**
   * The item's progress record (read from ZooKeeper unless cached, or when `refresh`), with what
   * our own ledger says of it (our claim, our run in flight: `withOwnLedger`).
   */
  async load(job: string, item: number, refresh = false): Promise<ProgressRecord> {
    const record = await this.progress.load(job, item, refresh);
    const cached = this.progress.get(job, item);
    return cached ? withOwnLedger(cached, this.writer, this.member, job, item) : record;
  }

  /**
   * The item's progress record read from ZooKeeper now, with its last write's zxid and writer
   * (`stamp`, what tells a ledger entry superseded: `model/ledger-view.ts`); no stamp when the
   * record does not exist.
   */
  async loadStamped(job: string, item: number): Promise<{ record: ProgressRecord; stamp?: RecordStamp; carriesRun: boolean }> {
    const cached = await this.progress.read(job, item);
    return { record: cached.record, stamp: cached.version >= 0 ? cached.stamp : undefined, carriesRun: !!cached.carriesRun };
  }

  /**
   * What a takeover found in the members' ledgers that the item's record does not say: a run in
   * flight (a gone member's; or our own that no run of ours holds) — only the re-run of its fire
   * may begin now (`decideBegin`) — and the frontier (the largest current claim). The item's next
   * begin decides on them, and its next record write carries them (a begin after a read writes
   * the record: step 4c). Only onto the record as the takeover read it (`stamp`).
   */
  adopt(job: string, item: number, found: { inFlight?: InFlightRun | null; lastScheduled?: string }, stamp: RecordStamp): void {
    const cached = this.progress.get(job, item);
    if (!cached || cached.stamp?.mzxid !== stamp.mzxid) return;
    const record = { ...cached.record };
    if (found.inFlight && !record.inFlight) record.inFlight = found.inFlight;
    if (found.lastScheduled !== undefined && (record.lastScheduled === undefined || found.lastScheduled > record.lastScheduled)) record.lastScheduled = found.lastScheduled;
    cached.record = record;
  }

  /** When the item's node was created (ZooKeeper's clock), as last loaded. */
  createdAt(job: string, item: number): Date | undefined {
    return this.progress.createdAt(job, item);
  }

  /**
   * Records each fire as in flight, in the item's record and our ledger (see `RunBeginner`): as
   * many items per multi as fit in the client's `maxRequestBytes`, the rest in the next ones.
   */
  begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    return this.beginner.begin(requests);
  }

  /**
   * A batch of one instant needed several multis: it still works, but costs more than the two
   * transactions per instant the fleet is sized for. Logged at most once a minute.
   */
  private noteSplit(what: 'begin' | 'release', items: number, multis: number, more: { histories?: number } = {}): void {
    const now = this.time.now();
    if (now - this.splitLoggedAt[what] < 60_000) return;
    this.splitLoggedAt[what] = now;
    this.log.warn(
      { what, items, multis, ...more, maxRequestBytes: this.zk.maxRequestBytes },
      'the runs of one instant did not fit one request: raise zookeeper.maxRequestBytes together with jute.maxbuffer on every ZooKeeper server',
    );
  }

  /**
   * Records the end of a run and takes it out of our ledger; resolves false if we no longer held it. The
   * releases of a short window share their multis (see `RunReleaser`).
   */
  release(req: ReleaseRequest): Promise<boolean> {
    return this.releaser.release(req);
  }

  /** `release`, telling `done` (see `RunReleaser.releaseThen`). */
  releaseThen(req: ReleaseRequest, done: (written: boolean) => void): void {
    this.releaser.releaseThen(req, done);
  }

  /**
   * The item leaves this worker (reassigned): its history is written with its running run's
   * release, or now if it is not running here. Best effort: if the item's next owner wrote the
   * history meanwhile, ours is dropped (the version check fails).
   */
  async retire(job: string, item: number, running: boolean): Promise<void> {
    const cached = this.progress.get(job, item);
    this.leftClaims.add(job, item); // its claim stays in our ledger until its new owner's record write carries it on (its run, if any, stays in flight until released)
    if (!cached) return;
    if (running) {
      cached.retiring = true;
      return;
    }
    this.progress.delete(job, item);
    if (cached.historyDirty) await this.histories.write([{ job, item, cached }]);
  }

  /**
   * Takes out of our ledger our run of the item at `fireMs` that no run of ours holds (its release
   * could not be written, or its handler never started), only while the item's record is at the
   * version last loaded (the takeover that found it planned from that record). Only that run: not
   * a later one (the ledger's entry ends only the run at `fireMs`). Its fire stays in flight for its re-run, carried by the record (written in the same
   * multi, as a run handed back) when the record does not carry it yet. Resolves true once it is
   * out; false: the record changed, load it and look again.
   */
  async dropOrphanRun(job: string, item: number, fireMs: number): Promise<boolean> {
    const cached = this.progress.get(job, item);
    if (!cached || cached.version < 0) return false;
    try {
      // The fire stays in flight for its re-run: carried by the record from now on, when the
      // record does not carry it already (run protocol v2, step 4c: our ledger alone held it) —
      // as a run handed back, which is in the record only.
      const carry = cached.carriesRun ? undefined : ownRun(cached.record, this.member, fireMs, this.writer.flightOf(job, item));
      const tx = this.writer.transaction();
      if (carry) tx.setData(this.paths.item(job, item), encodeProgress({ ...cached.record, inFlight: { ...carry, interrupted: true } }, this.member.name), cached.version);
      else tx.check(this.paths.item(job, item), cached.version);
      this.writer.change(tx, { ended: [{ job, item, fireMs }] });
      const [out] = await this.writer.commit(tx);
      if (carry && this.progress.get(job, item) === cached) {
        // Its re-run is the only begin the item takes now (`decideBegin`).
        cached.record = { ...cached.record, inFlight: carry };
        cached.version = out!.stat!.version;
        cached.stamp = { mzxid: out!.stat!.mzxid, by: sequenceOf(this.member.name) };
        cached.carriesRun = true;
      }
      return true;
    } catch (err) {
      if (!(err instanceof ZkTransactionError)) throw err;
      if (err.reason instanceof BadVersionError || err.reason instanceof NoNodeError) return false;
      throw err;
    }
  }

  /**
   * Our run of the item in flight as our ledger in ZooKeeper says now (read), when `mayHold` or our
   * ledger as last committed has it; else undefined, unread (no run of ours can be in flight: every
   * begin of ours is committed through our writer, or found applied by a read of the ledger and
   * then run here).
   */
  async ownRunInFlight(job: string, item: number, mayHold: boolean): Promise<LedgerFlight | undefined> {
    if (!mayHold && !this.writer.inFlight(job).has(item)) return undefined;
    const [flight] = await this.writer.readInFlight([{ job, item }]);
    return flight;
  }

  /**
   * Records fires that did not run in the item's record and history now, whoever runs the item
   * (a read-modify-write with version checks, retried on a conflict). `carry`: a run in flight
   * another member's ledger holds, which this write (superseding that ledger's entry) must carry
   * on, as found by a takeover that read the record at `stamp`. Never throws: what could not be
   * written is logged.
   */
  async recordNotes(job: string, item: number, asked: FireNotes, options: { advanceFrom?: string; carry?: { run: InFlightRun; stamp: RecordStamp } } = {}): Promise<boolean> {
    let notes = asked;
    let fence: number | undefined;
    for (let round = 0; round < NOTE_WRITE_ROUNDS; round++) {
      try {
        await this.progress.load(job, item, true);
        const cached = this.progress.get(job, item);
        if (!cached || cached.version < 0) return false; // the item is gone: nothing to account for
        // The frontier our own ledger claims too (step 4c: the steady begins write only the claim).
        const loaded = withOwnLedger(cached, this.writer, this.member, job, item);
        const frontier = loaded.lastScheduled ?? bornAtOf(cached);
        // Fires at or before the frontier were accounted for already (a begin moved it past them).
        notes = notesAfter(asked, frontier, this.scheduleOf?.(job));
        if (!notes.missed && !notes.skipped) return true;
        const record: ProgressRecord = { ...loaded, recent: withNotes(loaded.recent, notes, this.member.workerId, new Date(this.time.now()).toISOString()) };
        // The record carries a run in flight on: one it carried, another member's (this write
        // supersedes that member's ledger entry: `carry`, what the caller's takeover found in the
        // ledgers, while the record is still as it read it), not our own one our ledger holds
        // (run protocol v2, step 4c).
        const carry = options.carry && cached.stamp?.mzxid === options.carry.stamp.mzxid ? options.carry.run : undefined;
        const carried = loaded.inFlight && (cached.carriesRun || loaded.inFlight.member !== this.member.name) ? loaded.inFlight : carry;
        // Notes whose claim reaches the item's frontier move it: they account for every fire after
        // `advanceFrom` (the frontier as the caller read it), and those up to the frontier now were
        // left out above (fleet simulation, seed 368: two takeovers planned from one frontier; the
        // second's note, cut to the fires after the first's, did not move it, and the third
        // takeover recorded them again).
        if (options.advanceFrom !== undefined && (frontier === undefined || options.advanceFrom <= frontier)) {
          for (const note of [notes.missed, notes.skipped]) {
            if (note && note.latest.toISOString() > (record.lastScheduled ?? '')) record.lastScheduled = note.latest.toISOString();
          }
        }
        // Fenced as a begin is, and only while the item is ours as the assignments stand at that
        // fence: only the item's owner writes its record (a write by a member the item has left
        // would supersede its new owner's ledger entries without the runs they hold).
        const tx = this.zk.transaction();
        fence = this.member.beginFence?.();
        if (this.member.owns?.(job, item) === false) return false;
        if (fence !== undefined) tx.check(this.paths.member(this.member.name), fence);
        const first = tx.size;
        tx.setData(this.paths.item(job, item), encodeProgress({ ...record, inFlight: carried }, this.member.name), cached.version);
        this.histories.op(tx, job, item, cached, record.recent ?? []);
        const out = (await this.zk.commit(tx)).slice(first);
        this.onNotesRecorded?.(job, item, notes);
        // The entry is kept, up to date (a run of the item may be going on here: its release needs
        // it; fleet simulation, seed 15430: a dropped entry had to be read again at release time).
        const now = this.progress.get(job, item);
        if (now === cached) {
          cached.record = record;
          cached.version = out[0]!.stat!.version;
          cached.stamp = { mzxid: out[0]!.stat!.mzxid, by: sequenceOf(this.member.name) };
          cached.historyVersion = out[1]!.stat?.version ?? 0;
          cached.historyDirty = false;
          cached.carriesRun = carried !== undefined;
          cached.consolidated = true;
        } else this.progress.delete(job, item); // replaced meanwhile: read again when next needed
        this.notesLog.recorded(job, item, notes);
        return true;
      } catch (err) {
        if (fence !== undefined && err instanceof ZkTransactionError && err.failedIndex === 0 && err.reason instanceof BadVersionError) {
          // Fenced: the leader moved items away from us. Once our view caught up, only if still ours.
          if ((await this.member.awaitBeginFence?.(fence)) === undefined || this.member.owns?.(job, item) === false) return false;
          continue;
        }
        const conflict = err instanceof ZkTransactionError && (err.reason instanceof BadVersionError || err.reason instanceof NodeExistsError);
        if (conflict) continue; // the item (or its history) changed meanwhile: read it again
        if (err instanceof ZkTransactionError && err.reason instanceof NoNodeError) return false;
        this.log.warn({ err, job, item, notes: describeNotes(notes) }, 'could not record fires not run');
        return false;
      }
    }
    this.log.warn({ job, item, notes: describeNotes(notes) }, 'could not record fires not run: the item kept changing');
    return false;
  }

  /**
   * Before a drain: from now on every release writes its history, and the histories of items not
   * running here that are behind are written now (before the items can move).
   */
  flushHistories(): Promise<void> {
    return this.histories.flushAll();
  }

  /**
   * The fence every write of the item's run checks (see `RunFences`): our member node at the version
   * known when the run began; undefined when runs are not fenced.
   */
  fenceOf(job: string, item: number): { path: string; version: number } | undefined {
    const version = this.fences.of(job, item);
    return version === undefined ? undefined : { path: this.paths.member(this.member.name), version };
  }

  /**
   * Whether our member node's version moved since the item's run began (or was last confirmed):
   * our own update, or an operator's forced remove or reshard that took the run. The executor
   * asks right before a handler is entered and, when it moved, enters it only if `confirmFence`.
   */
  fenceMoved(job: string, item: number): boolean {
    const current = this.fences.current();
    if (current === undefined || this.fences.allAt(current) || this.fences.of(job, item) === current) return false;
    return !this.fences.followIfNoRunTaken(job, item, current); // the leader's fences and our own writes take no run
  }

  /**
   * After a write of the run failed its fence check, or `fenceMoved` (the member node's version
   * moved): whether our ledger still holds the run (in flight at its fire) — a forced remove or
   * reshard clears it there in the transaction that moves the fence. If
   * it does, its fence becomes the member node's version now. The runs that ask in one turn share
   * their reads (`FenceConfirmations`).
   */
  confirmFence(job: string, item: number, fireTime: Date): Promise<boolean> {
    return this.confirmations.confirm(job, item, fireTime); // the runs asking in one turn read together
  }

  /**
   * Records the attempt number of a retry, only while the run is still ours (our member node at
   * its fence, or our ledger holds it) and the record shows this run in flight; rejects (`RUN_NOT_HELD`, or the ZooKeeper error) otherwise,
   * and the attempt must not be made.
   */
  async recordAttempt(job: string, item: number, fireTime: Date, attempt: number): Promise<void> {
    for (let tries = 0; ; tries++) {
      const cached = this.progress.get(job, item) ?? (await this.load(job, item, true), this.progress.get(job, item));
      // Our run, as the record carries it or (a run our ledger alone holds) as our ledger has it.
      const fire = fireTime.toISOString();
      const own = this.writer.flightOf(job, item);
      const flight = ownRun(cached?.record, this.member, fireTime.getTime(), own);
      if (!cached || !flight || (own?.fireMs !== fireTime.getTime() && !cached.carriesRun)) {
        throw new ZkshardError('RUN_NOT_HELD', `run of ${job}#${item} at ${fire} is no longer held by this worker: attempt ${attempt} not made`);
      }
      // From now on the record carries the run (the ledger keeps the attempt it began with).
      const record = { ...cached.record, inFlight: { ...flight, attempt } };
      // Held while our member node is at the run's fence (a forced operation that takes the run
      // moves it; then `confirmFence` asks our ledger); unfenced (tests of the ledger alone), the
      // record's version check alone.
      const fence = this.fences.of(job, item);
      const tx = this.zk.transaction();
      if (fence !== undefined) tx.check(this.paths.member(this.member.name), fence);
      const first = fence === undefined ? 0 : 1;
      tx.setData(this.paths.item(job, item), encodeProgress(record, this.member.name), cached.version);
      try {
        const out = await this.zk.commit(tx);
        const stat = out[first]!.stat!;
        this.progress.set(job, item, { ...cached, record, version: stat.version, stamp: { mzxid: stat.mzxid, by: sequenceOf(this.member.name) }, carriesRun: true });
        return;
      } catch (err) {
        const failed = err instanceof ZkTransactionError && err.reason instanceof BadVersionError ? err.failedIndex : undefined;
        if (tries >= 2 || failed === undefined) throw err;
        if (failed === 0) {
          if (!(await this.confirmFence(job, item, fireTime))) throw new ZkshardError('RUN_NOT_HELD', `run of ${job}#${item} at ${fireTime.toISOString()} was taken by a forced remove or reshard: attempt ${attempt} not made`);
        } else await this.load(job, item, true);
      }
    }
  }
}
