import type { Logger } from 'pino';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import type { Executor, FireRequest } from '../executor/executor.js';
import type { RunLedger } from '../executor/run-ledger.js';
import type { ZkSession } from '../zk/zk-session.js';
import { mergeNote } from '../executor/fire-note.js';
import type { Clock } from '../clock/clock.js';
import { RefreshLoop } from '../zk/refresh-loop.js';
import { RequestSlots } from '../zk/request-slots.js';
import { planTakeover } from './plan-takeover.js';
import type { ProgressRecord } from '../model/progress-record.js';
import { keyOf, settleFires, type JobState } from './job-state.js';
import type { LedgerReads } from './ledger-reads.js';
import { RunWaits, type RunElsewhere } from './run-waits.js';
import { LEDGER_PARTS } from '../model/member-ledger.js';
import { LineBatch } from '../logging/line-batch.js';
import { inFlightOf, itemLedgerView, takeoverDisagreement, type LedgerDisagreement, type RecordStamp } from '../model/ledger-view.js';

/**
 * Takeovers of one item made back to back at most (each asked for during the one before); then
 * the next waits TAKEOVER_RETRY_MS.
 */
const MAX_TAKEOVER_ROUNDS = 5;
/** Retry delay of a takeover that failed (a ZooKeeper error): doubled each time up to the max, jittered. */
const TAKEOVER_RETRY_MS = 250;
const TAKEOVER_RETRY_MAX_MS = 5000;
/**
 * Takeovers reading ZooKeeper at once, at most (each reads the item's record and history, and its job's ledger parts);
 * the others wait their turn. A worker taking over 20,000 items at once sent 60,000 reads at once.
 */
export const TAKEOVERS_READING_MAX = 256;
/** Items named in a line that logs a burst of takeovers (the rest are counted). */
const ITEMS_LOGGED = 50;

/** What the takeovers need of the scheduler they work for. */
export interface TakeoverHost {
  /** The scheduler's jobs (an item is taken over only while it is owned). */
  readonly jobs: ReadonlyMap<string, JobState>;
  /** Whether the scheduler is started (not yet stopped). */
  active(): boolean;
  /** Whether fires may be planned now: not paused, and the local clock is trusted. */
  mayPlan(): boolean;
  /**
   * The item's takeover rounds are over, the last one planned up to `untilMs`: the fires the
   * scheduler held meanwhile (see `pending`) after it are to be handed over now.
   */
  releaseHeld(job: string, item: number, untilMs: number): void;
}

export interface ItemTakeoversOptions {
  zk: Pick<ZkSession, 'getDataIfExists' | 'exists' | 'signal'>;
  paths: ZkPaths;
  executor: Pick<Executor, 'fire' | 'holdsFire' | 'isBusy' | 'isStarting'>;
  ledger: Pick<RunLedger, 'loadStamped' | 'createdAt' | 'recordNotes' | 'dropOrphanRun' | 'ownRunInFlight' | 'adopt'>;
  /**
   * The members' ledgers, read by every takeover before the item's record (run protocol v2, steps
   * 3b, 4a and 4b): the frontier is the largest of the record's and the ledgers' claims, a live
   * member's run in flight there is waited for, and where the ledgers contradict the record it is
   * reported. Unset (tests of the scheduler alone): nobody else runs the item.
   */
  ledgerReads?: Pick<LedgerReads, 'ticket' | 'read' | 'clear'>;
  /** Told of every contradiction between the ledgers and the record a takeover read (see `takeoverDisagreement`). */
  onLedgerDisagreement?: (disagreement: LedgerDisagreement) => void;
  log: Logger;
  /** This worker's member name (a run in flight in our ledger is our own, not someone else's). */
  memberName: () => string;
  clock: Clock;
  /** Source of randomness in [0, 1) for the retry's jitter. @default Math.random */
  random?: () => number;
}

/**
 * What a new owner of an item does first (`planTakeover`: re-run a fire left in flight, catch up
 * or record missed fires by the misfire policy, wait for a run still going on elsewhere), one
 * takeover at a time per item, for the `FireScheduler`.
 */
export class ItemTakeovers {
  private takeoverFires: FireRequest[] = [];
  private takeoverFlush: Promise<void> | undefined;
  /** Items waiting for a run on another member to end. */
  private readonly waits: RunWaits;
  /**
   * Each item's takeover loop, as `job#item`: made on demand, dropped once it is idle again (no
   * takeover running, due or waiting for a retry), when the item leaves (once its run is over) or
   * when the scheduler stops. `running` is a takeover in progress. (Kept for every owned item, the
   * loops were the largest part of an idle worker's live heap: 4.8 MB for 8,000 items.)
   */
  private readonly takingOver = new Map<string, RefreshLoop>();
  /**
   * Per item (`job#item`), the end of what its last takeover round planned (ms), until its loop
   * is idle again: then the fires held meanwhile after it are handed over (`releaseHeld`).
   */
  private readonly planned = new Map<string, number>();
  /**
   * Items (`job#item`) that left while a takeover round of theirs ran (and may have come back):
   * that round's reads may precede the assignment the item is owned by now, so they are not held
   * against each other (`takeoverDisagreement` assumes the ledgers were read after the move).
   */
  private readonly leftDuring = new Set<string>();
  /**
   * Items (`job#item`) whose takeover was put off because nothing may be planned now (firing
   * paused, or a clock not trusted): pending until a takeover of theirs plans (`resumePutOff`, or
   * every owned item's when firing resumes). A trigger or a fire of such an item must not begin
   * before that: another member's run of it may be in flight (fleet simulation, seed 79564).
   */
  private readonly putOff = new Map<string, { job: string; item: number }>();
  /** Takeovers reading ZooKeeper now (TAKEOVERS_READING_MAX). */
  private readonly reading = new RequestSlots(TAKEOVERS_READING_MAX);
  private readonly clock: Clock;
  /** The takeovers of a turn (a burst takes thousands over at once), logged as one line each kind. */
  private readonly takingOverLog: LineBatch<{ job: string; item: number; rerun?: string; catchUp: number }>;
  private readonly missedLog: LineBatch<{ job: string; item: number; missed: number; policy: string }>;

  constructor(
    private readonly host: TakeoverHost,
    private readonly opts: ItemTakeoversOptions,
  ) {
    this.clock = opts.clock;
    this.takingOverLog = new LineBatch((items) => opts.log.info({ count: items.length, items: items.slice(0, ITEMS_LOGGED) }, 'taking over items'), this.clock);
    this.missedLog = new LineBatch(
      (items) => opts.log.warn({ count: items.length, missed: items.reduce((n, i) => n + i.missed, 0), items: items.slice(0, ITEMS_LOGGED) }, 'fires missed before takeover'),
      this.clock,
    );
    this.waits = new RunWaits(opts.zk, opts.paths, LEDGER_PARTS, (job, item) => this.request(job, item));
  }

  /** Takeover loops kept now (see `takingOver`). */
  get loops(): number {
    return this.takingOver.size;
  }

  /** Whether the item (`job#item`) is being taken over now, or waits for another run's release. */
  busy(key: string): boolean {
    return this.takingOver.get(key)?.running === true || this.waits.has(key);
  }

  /**
   * Whether the item's fires are to be held rather than begun: a takeover of it runs, is due (a
   * request made during the last round) or waits for its retry, or it waits for another member's
   * run to end. The next round's plan covers every instant until it plans; what comes after is
   * handed back when the rounds are over (`TakeoverHost.releaseHeld`).
   */
  pending(job: string, item: number): boolean {
    // Asked for every owned item at every instant: with no takeover anywhere (the steady state),
    // no key is built.
    if (this.takingOver.size === 0 && this.waits.size === 0 && this.putOff.size === 0) return false;
    const key = keyOf(job, item);
    const loop = this.takingOver.get(key);
    return (loop !== undefined && !loop.idle) || this.waits.has(key) || this.putOff.has(key);
  }

  /** Asks again for the takeovers put off while nothing could be planned (see `putOff`). */
  resumePutOff(): void {
    // Called at every instant: nothing made when none was put off (the steady state).
    if (this.putOff.size === 0) return;
    for (const { job, item } of [...this.putOff.values()]) this.request(job, item);
  }

  /** Drops every takeover loop (the scheduler stops). */
  closeAll(): void {
    for (const loop of this.takingOver.values()) loop.close();
    this.takingOver.clear();
    this.planned.clear();
    this.leftDuring.clear();
    this.putOff.clear();
    this.dropLedgerReads();
  }

  /**
   * Plans what a new owner does first; see `planTakeover`. One at a time per item, on the item's
   * own `RefreshLoop`: a takeover asked for while one runs is made again right after it (from what
   * ZooKeeper then holds); after MAX_TAKEOVER_ROUNDS such rounds the item's state keeps changing
   * under us (another member is taking it too): it is planned once more a little later instead of
   * spinning. A takeover that failed on a ZooKeeper error is retried after a jittered backoff
   * (from TAKEOVER_RETRY_MS, doubling, at most TAKEOVER_RETRY_MAX_MS, drawn from `random`); one
   * asked for meanwhile is served by that retry.
   */
  request(job: string, item: number): void {
    if (!this.host.active()) return;
    const key = keyOf(job, item);
    let loop = this.takingOver.get(key);
    if (!loop) {
      const created: RefreshLoop = new RefreshLoop(
        async () => {
          try {
            await this.once(job, item);
          } finally {
            // The item left during this run (and did not come back): its loop goes with it.
            if (!this.host.jobs.get(job)?.owned.has(item)) this.forget(job, item, true);
          }
        },
        {
          timers: this.clock,
          backoff: { initialMs: TAKEOVER_RETRY_MS, maxMs: TAKEOVER_RETRY_MAX_MS, random: this.opts.random },
          maxBackToBack: { runs: MAX_TAKEOVER_ROUNDS, pauseMs: TAKEOVER_RETRY_MS },
          isFinal: (err) => err instanceof ZkClosedError || this.opts.zk.signal.aborted || !this.host.active(),
          onRetry: (err, retryInMs) => this.opts.log.warn({ err, job, item, retryInMs }, 'takeover failed; retrying'),
          // An idle loop holds nothing a new one would not (a success reset its backoff): dropped.
          onIdle: () => {
            if (this.takingOver.get(key) !== created) return;
            created.close();
            this.takingOver.delete(key);
            this.dropLedgerReads();
            const until = this.planned.get(key);
            this.planned.delete(key);
            // After the loop is gone: a fire handed over now that answers `takeover` starts a new one.
            if (until !== undefined && !this.waits.has(key)) this.host.releaseHeld(job, item, until);
          },
        },
      );
      this.takingOver.set(key, created);
      loop = created;
    }
    void loop.request();
  }


  /**
   * Forgets the item's takeover loop (a pending retry with it), unless a takeover of it runs: that
   * run's end forgets it (`ended`), if the item has not come back meanwhile.
   */
  forget(job: string, item: number, ended = false): void {
    const key = keyOf(job, item);
    this.putOff.delete(key);
    const loop = this.takingOver.get(key);
    if (loop?.running && !ended) this.leftDuring.add(key);
    if (!loop || (loop.running && !ended)) return;
    this.leftDuring.delete(key);
    loop.close();
    this.takingOver.delete(key);
    this.planned.delete(key);
    this.dropLedgerReads();
  }

  /** With no takeover left, the ledgers read for the last ones are let go (the next one reads afresh). */
  private dropLedgerReads(): void {
    if (this.takingOver.size === 0) this.opts.ledgerReads?.clear();
  }


  private async once(job: string, item: number): Promise<void> {
    const s = this.host.jobs.get(job);
    const key = keyOf(job, item);
    if (!s || !s.owned.has(item) || !this.host.active()) {
      this.putOff.delete(key);
      return;
    }
    // A local clock that cannot be trusted could plan fires of instants still to come: wait
    // (the clock's verdict resumes firing and plans every owned item again, or gives them up).
    // Meanwhile the item stays pending: its fires and triggers are held for this takeover.
    if (!this.host.mayPlan()) {
      this.putOff.set(key, { job, item });
      return;
    }
    this.putOff.delete(key);
    // The plan covers the fires up to the next regular one as of when it is made, after the reads:
    // the scheduler holds the item's fires while its takeover is under way (`pending`), so none of
    // them began meanwhile, and the ones held are this plan's (a plan fixed before the reads left
    // the fires of its wait to another round: at 1,000 jobs × 8 items started together each item
    // was taken over about eight times; at 10,000 × 8 the rounds never ended).
    this.planned.delete(key);
    let until = new Date(s.nextFire - 1);
    // Ledger reads begun after this serve this round: after the assignment that gives us the item.
    const ticket = this.opts.ledgerReads?.ticket();
    const sinceMs = this.clock.monotonic();
    const me = this.opts.memberName();
    this.leftDuring.delete(key);
    try {
      const read = await this.reading.run(async () => {
        // Waited for a slot: the item may have left, or the scheduler stopped.
        if (!s.owned.has(item) || !this.host.active()) return undefined;
        // The ledgers first, then the record: what `takeoverDisagreement` relies on.
        const ledgers = ticket === undefined ? undefined : await this.opts.ledgerReads!.read(job, ticket);
        const { record: loaded, stamp, carriesRun } = await this.opts.ledger.loadStamped(job, item);
        // Our own run in flight, as our ledger says after the record was read; read only when
        // something says we may have one (most items taken over never ran here).
        const ownPart = ledgers?.parts.find((p) => p.member === me)?.entries.get(job)?.f.has(item) ?? false;
        const mayHold = ownPart || loaded.inFlight?.member === me || this.opts.executor.isBusy(job, item);
        const own = await this.opts.ledger.ownRunInFlight(job, item, mayHold);
        return { loaded, stamp, carriesRun, own, ledgers };
      });
      if (!read) return;
      until = new Date(s.nextFire - 1);
      const { loaded, stamp, carriesRun, own, ledgers } = read;
      let progress = loaded;
      // Who runs the item elsewhere: a live member whose ledger, read after the item came to us,
      // has it in flight. Unknown when a part could not be read, or the item left during the round
      // (the reads may straddle another owner's begin): then the round is made again, later.
      if (ledgers && !ledgers.complete) {
        throw new ZkshardError('TAKEOVER_UNREADABLE', `a ledger part of job ${job} cannot be read: whether another member runs item ${item} is unknown; taking it over again later`);
      }
      if (this.leftDuring.has(key)) {
        throw new ZkshardError('TAKEOVER_RACED', `${job}#${item} left this worker during its takeover: taking it over again`);
      }
      // A fire of the item on its way to a begin (handed over before the takeover began: being
      // begun, or queued behind the item's run) is not in what the round read, and nothing else
      // keeps it apart from this plan's notes (step 4c: a begin that writes only our ledger is not
      // checked against the record; seeds 17543, 17947, 18495): planned again once it is begun.
      if (this.opts.executor.isStarting(job, item)) {
        throw new ZkshardError('TAKEOVER_RACED', `a begin of ${job}#${item} is on its way: taking it over again once it is done`);
      }
      let elsewhere: RunElsewhere | undefined;
      if (ledgers && stamp) {
        const bornAtMs = this.opts.ledger.createdAt(job, item)?.getTime();
        const view = itemLedgerView(ledgers.parts, job, item, stamp);
        // The record as stored: the run in flight it carries, if any (ours it holds not: step 4c).
        const stored = { ...loaded, inFlight: carriesRun ? loaded.inFlight : null };
        const detail = takeoverDisagreement({ job, item, parts: ledgers.parts, record: stored, stamp, me, bornAtMs }, view);
        if (detail) {
          // Expected when the item moved away during the round and we have not seen it yet (the
          // reads then straddle another owner's begin, which our fenced begin cannot follow);
          // otherwise a fault of the protocol, which the simulation holds against it (invariant (j)).
          const level = s.owned.has(item) ? 'info' : 'debug';
          this.opts.log[level]({ job, item, detail }, 'the members\' ledgers contradict the item\'s record (expected only if the item moved away meanwhile)');
          this.opts.onLedgerDisagreement?.({ job, item, member: me, sinceMs, detail });
        }
        const running = view.inFlight.find((f) => f.live && f.member !== me);
        elsewhere = running && { member: running.member };
        // A gone member's run in flight that the record does not carry (its ledger alone held it,
        // run protocol v2, step 4c): the fire this takeover runs again (or records).
        const left = progress.inFlight ? undefined : view.inFlight.find((f) => !f.live && f.member !== me);
        if (left) progress = { ...progress, inFlight: inFlightOf(left, left.member, left.member) };
        // The frontier: the largest of the record's and the current ledger claims (a claim is an
        // instant begun), never one before the item was made (a claim of an earlier item of its name).
        const claimMs = view.claimMs;
        if (claimMs !== undefined && claimMs > (bornAtMs ?? -Infinity) && (loaded.lastScheduled === undefined || claimMs > Date.parse(loaded.lastScheduled))) {
          progress = { ...progress, lastScheduled: new Date(claimMs).toISOString() };
        }
      }
      // Our own run holds the item (a re-run this item's takeover began meanwhile): nothing to re-run,
      // but the fires since the last one taken on are still planned, queued behind it: a scheduled
      // fire that answered `takeover` meanwhile would otherwise be lost (fleet simulation, seed 274;
      // the 10-minute chaos run with partitions). Only a run (or a begin) of the fire our ledger has
      // in flight holds it: a begin of another fire of the item on its way does not (fleet
      // simulation, seed 36648: taken for that run, it left an orphaned run in place for good).
      const ownRun = own !== undefined && this.opts.executor.holdsFire(job, item, new Date(own.fireMs));
      // Our own run in flight that no run of ours holds, and the record does not carry: its fire is
      // run again like a gone member's (the orphan is cleared below).
      if (own && !ownRun && !progress.inFlight) progress = { ...progress, inFlight: inFlightOf(own, me, me) };
      // The item's begins decide on what the ledgers said (only the re-run of that fire may begin;
      // the frontier is the largest claim) and its record writes carry it.
      if (stamp && ((progress.inFlight && !loaded.inFlight) || progress.lastScheduled !== loaded.lastScheduled)) {
        this.opts.ledger.adopt(job, item, { inFlight: progress.inFlight, lastScheduled: progress.lastScheduled }, stamp);
      }
      if (s.disabled.has(item)) {
        await this.takeOverDisabled(job, item, s, progress, elsewhere, until, stamp, me);
        return;
      }
      const plan = planTakeover({
        def: s.def,
        schedule: s.schedule,
        progress: ownRun ? { ...progress, inFlight: null } : progress,
        runElsewhere: elsewhere !== undefined,
        until,
        bornAt: this.opts.ledger.createdAt(job, item),
      });
      if (elsewhere) {
        this.opts.log.info({ job, item, holder: elsewhere.member }, 'item still running elsewhere: waiting for its release');
        this.waitFor(job, item, elsewhere);
        return;
      }
      if (own && !ownRun) {
        // A run our ledger has in flight with no run of ours behind it (a begin whose run never
        // started, or a run whose release could not be written): clear it, so that its fire can be
        // run again.
        this.opts.log.warn({ job, item, fireTime: new Date(own.fireMs).toISOString() }, 'clearing an orphaned run of this worker');
        if (!(await this.opts.ledger.dropOrphanRun(job, item, own.fireMs))) {
          throw new ZkshardError('TAKEOVER_RACED', `the record of ${job}#${item} changed while its orphaned run was being cleared: taking the item over again`);
        }
      }
      // Nothing is kept of the scheduled fires that answered `takeover`: those in the plan's window (after the last fire
      // taken on, up to `until`) are the plan's; those at or before it are behind the item's
      // frontier, which only a begin that accounted for them could pass (run or recorded by it:
      // not recorded again); later ones wait for the next takeover round (the answer that added
      // them asked for it).
      const requests: FireRequest[] = [];
      if (plan.poison) {
        this.opts.log.error({ job, item, fireTime: plan.poison.fireTime.toISOString(), reason: plan.poison.reason }, 'not running this fire again');
        requests.push({ job, item, fireTime: plan.poison.fireTime, attempt: plan.poison.attempt, rerun: true, poison: { reason: plan.poison.reason }, reason: 'failover' });
      }
      if (plan.rerun) requests.push({ job, item, fireTime: plan.rerun.fireTime, attempt: plan.rerun.attempt, rerun: true, failovers: plan.rerun.failovers, reason: 'failover' });
      // The plan's fires and missed ones are every instant after its frontier (`plan.from`): the
      // first request that carries them claims back to it, and so moves the item's frontier.
      const fires: FireRequest[] = plan.fires.map((fireTime, k) => ({ job, item, fireTime, attempt: 1, reason: 'misfire', ...((k > 0 || plan.from) && { after: k > 0 ? plan.fires[k - 1]! : plan.from! }) }));
      requests.push(...fires);
      if (plan.missed) {
        this.missedLog.add({ job, item, missed: plan.missed.count, policy: s.def.misfire });
        const carrier = fires[0] ?? requests[0];
        if (carrier) {
          carrier.missed = mergeNote(carrier.missed, plan.missed);
          if (plan.from) carrier.after = plan.from;
        } else {
          // Nothing to run: recorded now, moving the frontier past them if it has not moved.
          void this.opts.ledger.recordNotes(job, item, { missed: plan.missed }, { ...(plan.from && { advanceFrom: plan.from.toISOString() }), ...carryOf(progress, stamp, me) });
        }
      }
      const trigger = s.pendingTriggers.get(item);
      if (trigger) {
        s.pendingTriggers.delete(item);
        requests.push(trigger);
      }
      if (requests.length > 0) {
        this.takingOverLog.add({ job, item, ...(plan.rerun && { rerun: plan.rerun.fireTime.toISOString() }), catchUp: plan.fires.length });
        await this.fireTakeover(requests);
      }
      // Every fire up to `until` is accounted for: run again, run, or recorded as missed. (With no
      // frontier — no fire taken on, creation unknown — the plan counts none before `until`: the
      // fires held meanwhile are all handed over.)
      settleFires(this.host.jobs.get(job), item, until.getTime(), true);
      this.planned.set(key, plan.from ? until.getTime() : -Infinity);
    } catch (err) {
      // The item's record cannot be read (reported by the ledger): left alone, never retried blindly;
      // its next regular fire reads it again.
      if ((err as { code?: unknown }).code === 'ZK_DATA_MALFORMED' && this.host.active()) {
        settleFires(this.host.jobs.get(job), item, until.getTime(), true);
        this.planned.set(key, until.getTime());
        return;
      }
      // Retried by the item's loop, unless the session or the scheduler ended (`isFinal`).
      throw err;
    }
  }


  /**
   * A disabled item taken over: nothing runs (a fire left in flight waits for the item to be
   * enabled again, then it is re-run: F1a), but the fires after the item's frontier up to now are
   * recorded as missed, and the frontier moves past them — some were due while the item was still
   * enabled and nobody owned it, and would otherwise stay unrecorded for as long as the item stays
   * disabled (fleet simulation, seed 30228). Fires while it was disabled are recorded with them.
   */
  private async takeOverDisabled(job: string, item: number, s: JobState, progress: ProgressRecord, elsewhere: RunElsewhere | undefined, until: Date, stamp: RecordStamp | undefined, me: string): Promise<void> {
    const plan = planTakeover({
      def: { ...s.def, misfire: 'skip' },
      schedule: s.schedule,
      progress: { ...progress, inFlight: null },
      runElsewhere: elsewhere !== undefined,
      until,
      bornAt: this.opts.ledger.createdAt(job, item),
    });
    if (elsewhere) {
      this.waitFor(job, item, elsewhere);
      return;
    }
    if (plan.missed) {
      this.opts.log.info({ job, item, missed: plan.missed.count }, 'disabled item taken over: fires since the last one taken on recorded as missed');
      await this.opts.ledger.recordNotes(job, item, { missed: plan.missed }, { ...(plan.from && { advanceFrom: plan.from.toISOString() }), ...carryOf(progress, stamp, me) });
    }
    settleFires(this.host.jobs.get(job), item, until.getTime(), true);
    this.planned.set(keyOf(job, item), until.getTime());
  }


  /**
   * Hands takeover fires to the executor, gathered over one turn of the clock (`Clock.setImmediate`,
   * as the executor's freed batch): the takeovers of many items at once (a worker joining, a
   * failover) begin in one transaction. Resolves once they are begun.
   */
  private fireTakeover(requests: readonly FireRequest[]): Promise<void> {
    this.takeoverFires.push(...requests);
    this.takeoverFlush ??= new Promise<void>((resolve) => {
      this.clock.setImmediate(() => {
        const batch = this.takeoverFires;
        this.takeoverFires = [];
        this.takeoverFlush = undefined;
        if (!this.host.active()) return resolve();
        void this.opts.executor.fire(batch, true).finally(resolve);
      });
    });
    return this.takeoverFlush;
  }


  /** Plans the item again once the run `holder` has of it is over (see `RunWaits`). */
  private waitFor(job: string, item: number, holder: RunElsewhere): void {
    if (this.host.jobs.get(job)?.owned.has(item)) this.waits.wait(job, item, holder);
  }
}

/**
 * What a notes write of a takeover carries on: the run in flight another member left that the
 * takeover found (in that member's ledger, or the record), with the record's stamp as read.
 */
function carryOf(progress: ProgressRecord, stamp: RecordStamp | undefined, me: string): { carry?: { run: NonNullable<ProgressRecord['inFlight']>; stamp: RecordStamp } } {
  const run = progress.inFlight;
  return run && stamp && run.member !== me ? { carry: { run, stamp } } : {};
}
