import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../zk/zk-errors.js';
import { ZkTransactionError, type ZkTransaction } from '../zk/zk-transaction.js';
import { decodeMarker, encodeMarker } from '../model/running-marker.js';
import type { ServerClockObserver } from '../zk/server-clock-observer.js';
import { encodeProgress, withOutcome, type ProgressRecord } from '../model/progress-record.js';
import { ProgressCache, type CachedProgress } from './progress-cache.js';
import { commitBatched } from '../zk/batched-multi.js';
import { HISTORY_WRITE_INTERVAL_MS, ItemHistoryWriter } from './item-history-writer.js';
import { decideBegin, type BeginAsk } from './begin-decision.js';
import { withNotes, type FireNote, type FireNotes } from './fire-note.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import { systemClock, type Clock } from '../clock/clock.js';
import { whenLive } from '../zk/when-live.js';
import { RunFences, type LedgerMember } from './run-fences.js';
import { RunReleaser, type ReleaseRequest } from './run-releaser.js';
import { holdsMarker } from './holds-marker.js';
import { isoOf, isoOfDate } from '../model/iso-time.js';

export interface BeginRequest extends BeginAsk {
  job: string;
  item: number;
  /**
   * Do not run this fire left in flight: record it as failed (its runs took down `failovers`
   * owners, more than the job's `maxFailovers`). Valid like a re-run (`rerun` must be set).
   */
  poison?: { reason: string };
}

export type { LedgerMember } from './run-fences.js';
export type { ReleaseRequest, RunReport } from './run-releaser.js';

export type BeginResult =
  | { status: 'started'; token: string }
  /** Another run holds the item's marker (here or on another worker). */
  | { status: 'busy' }
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
  | { status: 'poisoned' }
  /** The begin failed unexpectedly for this request: nothing was started for it. */
  | { status: 'error'; error: unknown }
  /** The item's progress record cannot be read: it is left alone (never written, never run). */
  | { status: 'malformed'; error: MalformedDataError };

/** Tries of `recordNotes` against an item that keeps changing under it. */
const NOTE_WRITE_ROUNDS = 5;

function describeNotes(notes: FireNotes): Record<string, { count: number; latest: string }> {
  const out: Record<string, { count: number; latest: string }> = {};
  for (const [k, n] of Object.entries(notes) as Array<[string, FireNote | undefined]>) if (n) out[k] = { count: n.count, latest: n.latest.toISOString() };
  return out;
}

/**
 * The run protocol's ZooKeeper side. `begin` takes the running markers of every item firing at one
 * instant and records each fire as in flight, in one transaction; `release` drops markers and
 * records outcomes, batching the releases of a 10 ms window into one transaction. The
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
  /** Told of notes of fires not run that `recordNotes` wrote (the run history; a begin's are the executor's). */
  onNotesRecorded: ((job: string, item: number, notes: FireNotes) => void) | undefined;
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
    private readonly clock?: ServerClockObserver,
    /** Time and timers. @default systemClock */
    private readonly time: Clock = systemClock,
    /** Source of randomness in [0, 1) for the first history write's jitter (seeded in the simulation). */
    random: () => number = Math.random,
  ) {
    this.progress = new ProgressCache(zk, paths, log, () => this.time.now() + random() * HISTORY_WRITE_INTERVAL_MS);
    this.histories = new ItemHistoryWriter(zk, paths, this.progress, (cached) => cached.record.inFlight?.member === this.member.name, log, time);
    this.fences = new RunFences(member);
    this.releaser = new RunReleaser({
      zk,
      paths,
      member,
      fences: this.fences,
      progress: this.progress,
      histories: this.histories,
      time,
      log,
      onSplit: (items, multis, histories) => this.noteSplit('release', items, multis, { histories }),
    });
  }

  /** Told of every malformed record found (for the worker's `zkshard_malformed_records_total`). */
  set onMalformed(fn: ((err: MalformedDataError) => void) | undefined) {
    this.progress.onMalformed = fn;
  }

  /** Starts the history sweep (see HISTORY_WRITE_INTERVAL_MS). */
  start(): void {
    this.histories.start();
  }

  /** Stops the sweep. Idempotent. */
  close(): void {
    this.histories.close();
  }

  /** The item's progress record (read from ZooKeeper unless cached, or when `refresh`). */
  load(job: string, item: number, refresh = false): Promise<ProgressRecord> {
    return this.progress.load(job, item, refresh);
  }

  /** When the item's node was created (ZooKeeper's clock), as last loaded. */
  createdAt(job: string, item: number): Date | undefined {
    return this.progress.createdAt(job, item);
  }

  /**
   * Takes the marker of every item and records each fire as in flight: as many items per multi as
   * fit in the client's `maxRequestBytes` (one multi for a few thousand items at the default size),
   * the rest in the next ones.
   */
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    const results: Array<BeginResult | undefined> = new Array(requests.length);
    try {
      await this.beginRounds(requests, results);
    } catch (err) {
      // Never leave an item stuck: what began holds its marker and is run (and released) by the
      // caller; the rest did not begin, and is reported so that the caller records it.
      const failed = requests.filter((_, i) => results[i] === undefined).length;
      this.log.error({ err, items: failed }, 'could not begin runs');
      for (let i = 0; i < requests.length; i++) results[i] ??= { status: 'error', error: err };
    }
    return results.map((r) => r ?? { status: 'gone' });
  }

  private async beginRounds(requests: readonly BeginRequest[], results: Array<BeginResult | undefined>): Promise<void> {
    type Pending = { i: number; r: BeginRequest; cached?: CachedProgress; record?: ProgressRecord; history?: boolean };
    const member = { member: this.member.name, worker: this.member.workerId };
    let now = 0;
    let fenceAtBegin: number | undefined;
    let sent: number | undefined;
    let memberGone = false;
    let checkedFence: number | undefined;
    const outcome = await commitBatched<Pending>(this.zk, requests.map((r, i) => ({ i, r })), {
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
        await Promise.all(
          pending.map(async (p) => {
            try {
              await this.load(p.r.job, p.r.item);
              p.cached = this.progress.get(p.r.job, p.r.item);
              // Dropped again before we looked (a retire, a lost history race): read it once more.
              if (!p.cached) await this.load(p.r.job, p.r.item, true);
              p.cached ??= this.progress.get(p.r.job, p.r.item);
              if (!p.cached) results[p.i] = { status: 'error', error: new Error(`run ledger: the record of ${p.r.job}#${p.r.item} could not be kept`) };
            } catch (err) {
              if (!isMalformed(err)) throw err;
              results[p.i] = { status: 'malformed', error: err };
            }
          }),
        );
        now = this.time.now();
        fenceAtBegin = this.member.beginFence?.() ?? this.fences.current();
        sent = this.clock?.localNow();
      },
      add: (tx, p) => {
        const { r, cached } = p;
        if (results[p.i] !== undefined || !cached) return false;
        // Ours as the assignments stand at the fence this multi checks (the scheduler's view is
        // at least that recent): an item the leader moved away since is fenced off by the check.
        if (this.member.owns && !this.member.owns(r.job, r.item)) {
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
        const decision = decideBegin(cached.record, r, member, startedAt, bornAtOf(cached));
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
        if (r.missed || r.skipped) record = { ...record, recent: withNotes(record.recent, r, this.member.workerId, startedAt) };
        p.record = record;
        p.history = !!(r.missed || r.skipped || r.poison);
        const marker = encodeMarker({ member: this.member.name, worker: this.member.workerId, fireTime, attempt: r.attempt, startedAt });
        tx.create(this.paths.running(r.job, r.item), marker, 'ephemeral');
        // A poisoned fire is recorded, not run: the marker is created and removed in the same
        // multi, which proves that no run holds the item while its record is written.
        if (r.poison) tx.remove(this.paths.running(r.job, r.item));
        tx.setData(this.paths.item(r.job, r.item), encodeProgress(record), cached.version);
        if (p.history) this.histories.op(tx, r.job, r.item, cached, record.recent ?? []);
        return true;
      },
      committed: (done) => {
        const progressOp = (p: Pending) => (p.r.poison ? 2 : 1);
        const mtime = done[0]?.results[progressOp(done[0].request)]?.stat?.mtime;
        if (this.clock && sent !== undefined && mtime !== undefined) this.clock.observe(sent, this.clock.localNow(), mtime);
        for (const { request: p, results: out } of done) {
          const { r } = p;
          const stat = out[progressOp(p)]!.stat!;
          const prev = this.progress.get(r.job, r.item);
          this.progress.set(r.job, r.item, {
            ...prev,
            record: p.record!,
            version: stat.version,
            createdAt: stat.ctime,
            historyVersion: p.history ? (out[progressOp(p) + 1]!.stat?.version ?? 0) : (prev?.historyVersion ?? -1),
            historyDirty: p.history ? false : prev?.historyDirty,
          });
          results[p.i] = r.poison ? { status: 'poisoned' } : { status: 'started', token: stat.mzxid.toString() };
          if (!r.poison && fenceAtBegin !== undefined) this.fences.set(r.job, r.item, fenceAtBegin);
          for (const [outcome, note] of [['missed', r.missed], ['skipped', r.skipped]] as const) {
            if (note) this.log.info({ job: r.job, item: r.item, outcome, count: note.count, latest: note.latest.toISOString() }, 'recorded fires not run');
          }
        }
      },
      rejected: async (p, err, opOffset) => {
        const { r } = p;
        p.cached = undefined;
        if (p.history && opOffset === (r.poison ? 3 : 2)) {
          await this.load(r.job, r.item, true); // the history changed or appeared meanwhile
        } else if (err.reason instanceof NodeExistsError) {
          // Usually another run's marker; but it is ours when an earlier begin of this fire was
          // applied without our knowing (an unknown outcome read from a server behind it).
          const [found] = await this.inspectBegin([r]);
          if (found !== 'retry') results[p.i] = found!;
        } else if (err.reason instanceof NoNodeError) results[p.i] = { status: 'gone' };
        else if (err.reason instanceof BadVersionError) await this.load(r.job, r.item, true);
        else throw err;
        return results[p.i] === undefined ? 'retry' : 'drop';
      },
      // Connection lost or no answer: the multi may or may not have been applied.
      unknown: async (sentRequests) => {
        const found = await this.afterUnknownBegin(sentRequests.map((p) => p.r));
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
    if (outcome.split) this.noteSplit('begin', requests.length, outcome.multis);
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
   * Records the end of a run and drops its marker; resolves false if we no longer held it. The
   * releases of a short window share their multis (see `RunReleaser`).
   */
  release(req: ReleaseRequest): Promise<boolean> {
    return this.releaser.release(req);
  }

  /**
   * The item leaves this worker (reassigned): its history is written with its running run's
   * release, or now if it is not running here. Best effort: if the item's next owner wrote the
   * history meanwhile, ours is dropped (the version check fails).
   */
  async retire(job: string, item: number, running: boolean): Promise<void> {
    const cached = this.progress.get(job, item);
    if (!cached) return;
    if (running) {
      cached.retiring = true;
      return;
    }
    this.progress.delete(job, item);
    if (cached.historyDirty) await this.histories.write([{ job, item, cached }]);
  }

  /**
   * Removes our own marker of the item that no run of ours holds (its release could not be
   * written), only while the item's record is at the version last loaded: markers are all at
   * version 0, so a begin since then (anyone's: it writes the record) may have put a marker there
   * that is not this one. Resolves whether the marker is gone; false: the record changed, load it
   * and look again.
   */
  async dropOrphanMarker(job: string, item: number): Promise<boolean> {
    const cached = this.progress.get(job, item);
    if (!cached || cached.version < 0) return false;
    try {
      await this.zk.commit(this.zk.transaction().check(this.paths.item(job, item), cached.version).remove(this.paths.running(job, item), 0));
      return true;
    } catch (err) {
      if (!(err instanceof ZkTransactionError)) throw err;
      if (err.reason instanceof NoNodeError && err.failedIndex === 1) return true; // gone already
      if (err.reason instanceof BadVersionError || err.reason instanceof NoNodeError) return false;
      throw err;
    }
  }

  /**
   * Records fires that did not run in the item's record and history now, whoever runs the item
   * (a read-modify-write with version checks, retried on a conflict). Never throws: what could
   * not be written is logged.
   */
  async recordNotes(job: string, item: number, notes: FireNotes, options: { advanceFrom?: string } = {}): Promise<boolean> {
    for (let round = 0; round < NOTE_WRITE_ROUNDS; round++) {
      try {
        const loaded = await this.load(job, item, true);
        const cached = this.progress.get(job, item);
        if (!cached || cached.version < 0) return false; // the item is gone: nothing to account for
        const record: ProgressRecord = { ...loaded, recent: withNotes(loaded.recent, notes, this.member.workerId, new Date(this.time.now()).toISOString()) };
        // Notes that continue the item's frontier (`advanceFrom`, as the caller read it) move it.
        const frontier = loaded.lastScheduled ?? bornAtOf(cached);
        if (options.advanceFrom !== undefined && frontier === options.advanceFrom) {
          for (const note of [notes.missed, notes.skipped]) {
            if (note && note.latest.toISOString() > (record.lastScheduled ?? '')) record.lastScheduled = note.latest.toISOString();
          }
        }
        const tx = this.zk.transaction();
        tx.setData(this.paths.item(job, item), encodeProgress(record), cached.version);
        this.histories.op(tx, job, item, cached, record.recent ?? []);
        const out = await this.zk.commit(tx);
        this.onNotesRecorded?.(job, item, notes);
        // The entry is kept, up to date (a run of the item may be going on here: its release needs
        // it; fleet simulation, seed 15430: a dropped entry had to be read again at release time).
        const now = this.progress.get(job, item);
        if (now === cached) {
          cached.record = record;
          cached.version = out[0]!.stat!.version;
          cached.historyVersion = out[1]!.stat?.version ?? 0;
          cached.historyDirty = false;
        } else this.progress.delete(job, item); // replaced meanwhile: read again when next needed
        for (const [outcome, note] of Object.entries(notes) as Array<[string, FireNote | undefined]>) {
          if (note) this.log.info({ job, item, outcome, count: note.count, latest: note.latest.toISOString() }, 'recorded fires not run');
        }
        return true;
      } catch (err) {
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
   * After a begin whose outcome is unknown: once reconnected, each item is `started` (our marker
   * for this fire is there: the multi was applied; the token is the progress record's mzxid),
   * `busy` (someone else's marker), or `retry` (not applied). If the session ended, `gone`: its
   * markers went with it and the item's next owner sees the fire in the progress record.
   */
  private async afterUnknownBegin(requests: readonly BeginRequest[]): Promise<Array<BeginResult | 'retry'>> {
    const found = await whenLive(this.zk, () => this.inspectBegin(requests));
    return found ?? requests.map(() => ({ status: 'gone' }));
  }

  private inspectBegin(requests: readonly BeginRequest[]): Promise<Array<BeginResult | 'retry'>> {
    return Promise.all(
      requests.map(async (r): Promise<BeginResult | 'retry'> => {
        const held = await this.zk.getDataIfExists(this.paths.running(r.job, r.item));
        const progress = await this.zk.getDataIfExists(this.paths.item(r.job, r.item));
        await this.load(r.job, r.item, true);
        if (!held) return 'retry';
        // A marker that cannot be read is held all the same (by whom is unknown): busy.
        const marker = decodeMarker(held.data);
        if (!marker || marker.member !== this.member.name || marker.fireTime !== r.fireTime.toISOString() || !progress) return { status: 'busy' };
        this.log.info({ job: r.job, item: r.item, fireTime: marker.fireTime }, 'begin was applied before the connection dropped');
        return { status: 'started', token: progress.stat.mzxid.toString() };
      }),
    );
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
   * our own update, or an operator's forced remove or reshard that took its marker. The executor
   * asks right before a handler is entered and, when it moved, enters it only if `confirmFence`.
   */
  fenceMoved(job: string, item: number): boolean {
    const current = this.fences.current();
    return current !== undefined && this.fences.of(job, item) !== current;
  }

  /**
   * After a write of the run failed its fence check, or `fenceMoved` (the member node's version moved): whether the
   * run still holds its marker — a forced remove or reshard deletes it in the transaction that moves
   * the fence. If it does, its fence becomes the member node's version now.
   */
  async confirmFence(job: string, item: number, fireTime: Date): Promise<boolean> {
    const now = await this.fences.refresh();
    if (!(await holdsMarker(this.zk, this.paths, this.member.name, job, item, fireTime))) return false;
    if (now !== undefined) this.fences.set(job, item, now);
    return true;
  }

  /**
   * Records the attempt number of a retry, only while we still hold the run's marker and the
   * record shows this run in flight; rejects (`RUN_NOT_HELD`, or the ZooKeeper error) otherwise,
   * and the attempt must not be made.
   */
  async recordAttempt(job: string, item: number, fireTime: Date, attempt: number): Promise<void> {
    for (let tries = 0; ; tries++) {
      const cached = this.progress.get(job, item) ?? (await this.load(job, item, true), this.progress.get(job, item));
      const flight = cached?.record.inFlight;
      if (!cached || !flight || flight.member !== this.member.name || flight.fireTime !== fireTime.toISOString()) {
        throw new ZkshardError('RUN_NOT_HELD', `run of ${job}#${item} at ${fireTime.toISOString()} is no longer held by this worker: attempt ${attempt} not made`);
      }
      const record = { ...cached.record, inFlight: { ...flight, attempt } };
      const fence = this.fences.of(job, item);
      const tx = this.zk.transaction();
      if (fence !== undefined) tx.check(this.paths.member(this.member.name), fence);
      const first = fence === undefined ? 0 : 1;
      tx.check(this.paths.running(job, item), 0).setData(this.paths.item(job, item), encodeProgress(record), cached.version);
      try {
        const out = await this.zk.commit(tx);
        this.progress.set(job, item, { ...cached, record, version: out[first + 1]!.stat!.version });
        return;
      } catch (err) {
        const failed = err instanceof ZkTransactionError && err.reason instanceof BadVersionError ? err.failedIndex : undefined;
        if (tries >= 2 || failed === undefined || (failed !== first + 1 && !(failed === 0 && first === 1))) throw err;
        if (failed === 0) {
          if (!(await this.confirmFence(job, item, fireTime))) throw new ZkshardError('RUN_NOT_HELD', `run of ${job}#${item} at ${fireTime.toISOString()} lost its marker to a forced remove or reshard: attempt ${attempt} not made`);
        } else await this.load(job, item, true);
      }
    }
  }
}

function isMalformed(err: unknown): err is MalformedDataError {
  return (err as { code?: unknown } | undefined)?.code === 'ZK_DATA_MALFORMED';
}

/** When the item's node was created, as the frontier of an item never fired (see `decideBegin`). */
function bornAtOf(cached: CachedProgress): string | undefined {
  return cached.createdAt === undefined ? undefined : isoOf(cached.createdAt);
}

function maxIso(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}
