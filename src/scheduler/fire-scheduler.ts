import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { Executor, FireRequest } from '../executor/executor.js';
import type { BeginResult, RunLedger } from '../executor/run-ledger.js';
import type { FireNote } from '../executor/fire-note.js';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { CronSchedule } from '../cron/cron-schedule.js';
import { sharedSchedule } from '../cron/shared-schedule.js';
import { ItemTakeovers, type ItemTakeoversOptions } from './item-takeovers.js';
import { keyOf, settleFires, type JobState } from './job-state.js';
import { dueFires, fireItem, holdFires, instantBefore, keepNote, MAX_UNSETTLED } from './item-fires.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often the scheduler looks for stalled items (see `checkStalled`). */
export const STALL_CHECK_MS = 1000;
/**
 * An owned, enabled item whose fire instant passed this long ago without being begun, recorded or
 * skipped is stalled: reported and recovered.
 */
export const STALL_GRACE_MS = 5000;
/** While firing is paused (clock), how often the scheduler looks again. */
const PAUSED_RECHECK_MS = 1000;
/** Jobs named in the warning of fires due while the process stalled (the rest are counted). */
const LATE_JOBS_LOGGED = 20;

/** What the scheduler needs of the executor. */
export type FireTarget = Pick<Executor, 'fire' | 'prepareLeadMs' | 'isBusy' | 'holdsFire' | 'isStarting' | 'on'>;
/** What the scheduler needs of the run ledger. */
export type ProgressSource = Pick<RunLedger, 'loadStamped' | 'createdAt' | 'retire' | 'recordNotes' | 'dropOrphanRun' | 'ownRunInFlight' | 'adopt'>;
/** What the scheduler needs of the ZooKeeper session. */
/** The session reads of the scheduler (the waits on runs elsewhere: ledger parts, member nodes). */
export type SchedulerReads = Pick<ZkSession, 'getDataIfExists' | 'exists' | 'signal'>;

export interface FireSchedulerOptions {
  zk: SchedulerReads;
  paths: ZkPaths;
  executor: FireTarget;
  ledger: ProgressSource;
  log: Logger;
  /** This worker's member name (a run in flight in our ledger is our own, not someone else's). */
  memberName: () => string;
  /** Time and timers. @default systemClock */
  clock?: Clock;
  /** Source of randomness in [0, 1) for the takeover retry's jitter (seeded in the simulation). @default Math.random */
  random?: () => number;
  /** Called with the stalled items (`job#item`) whenever that set changes. */
  onStalled?: (items: readonly string[]) => void;
  /**
   * Whether the local clock can be trusted now (see `ClockCheck.trustNow`): when not, due fires
   * are recorded as missed, as while paused, and takeovers wait. @default always
   */
  clockTrusted?: () => boolean;
  /** The members' ledgers as takeovers read them (see `ItemTakeoversOptions.ledgerReads`). Unset: not read. */
  ledgerReads?: ItemTakeoversOptions['ledgerReads'];
  /** Told of every contradiction a takeover found between the ledgers and the record. */
  onLedgerDisagreement?: ItemTakeoversOptions['onLedgerDisagreement'];
}

/**
 * Fires this worker's own items on their jobs' cron schedules: one timer for the earliest next
 * fire of all jobs; every item due at an instant goes to the executor as one batch, handed over
 * `executor.prepareLeadMs()` ahead of the instant so that its begin is committed when it comes
 * (the handlers are entered at the instant itself). When the worker takes over an item it first
 * plans the takeover (`ItemTakeovers`: re-run of an interrupted fire, missed fires by the misfire
 * policy).
 *
 * Every fire handed to the executor comes back settled (begun, taken on elsewhere, recorded as
 * skipped or missed) or leads to a takeover; a watchdog reports and recovers any owned item whose
 * instant passed without that (`stalledItems`).
 */
export class FireScheduler {
  private readonly jobs = new Map<string, JobState>();
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  /** The instant (ms) the timer is armed for: the earliest next fire of the jobs with items, when armed by `arm`. */
  private armedMs: number | undefined;
  private stallTimer: TimerHandle | undefined;
  private state: 'latent' | 'started' | 'stopped' = 'latent';
  private paused = false;
  private stalled: string[] = [];
  /** What a new owner of an item does first. */
  private readonly takeovers: ItemTakeovers;

  constructor(private readonly opts: FireSchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.takeovers = new ItemTakeovers(
      {
        jobs: this.jobs,
        active: () => this.state === 'started',
        mayPlan: () => !this.paused && this.clockTrusted(),
        releaseHeld: (job, item, untilMs) => this.releaseHeld(job, item, untilMs),
      },
      { zk: opts.zk, paths: opts.paths, executor: { ...pickExecutor(opts.executor), fire: (requests, sequential) => this.fire(requests, sequential) }, ledger: opts.ledger, log: opts.log, memberName: opts.memberName, clock: this.clock, random: opts.random, ledgerReads: opts.ledgerReads, onLedgerDisagreement: opts.onLedgerDisagreement },
    );
    opts.executor.on('started', (req) => {
      this.settle(req.job, req.item, req.fireTime.getTime());
      // The notes it carries are recorded with it: the fires they count are settled.
      if (req.missed) this.settle(req.job, req.item, req.missed.latest.getTime(), true);
      if (req.skipped) this.settle(req.job, req.item, req.skipped.latest.getTime(), true);
    });
    opts.executor.on('notStarted', (req, why) => this.onNotStarted(req, why));
  }

  /** How many items are owned, by job (for the metrics: nothing made per item). */
  *ownedCounts(): IterableIterator<[string, number]> {
    for (const [job, s] of this.jobs) yield [job, s.owned.size];
  }

  /** Items owned per job (for status and tests). */
  owned(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [job, s] of this.jobs) out[job] = [...s.owned].sort((a, b) => a - b);
    return out;
  }

  /**
   * Whether the item is this worker's as the assignments applied so far say; with `epoch` (a
   * request's), whether it has been since that request was handed over: an item taken over again
   * since (an assignment generation skipped: it may have moved away and back) is not, for it.
   */
  owns(job: string, item: number, epoch?: number): boolean {
    const s = this.jobs.get(job);
    return (s?.owned.has(item) ?? false) && (epoch === undefined || (s!.epochs.get(item) ?? 0) === epoch);
  }

  /**
   * Whether the item's next regular fire here is within `withinMs` from now: it is owned and
   * enabled, and firing is not paused (the run history leaves its write to that run's release).
   */
  firesWithin(job: string, item: number, withinMs: number): boolean {
    const s = this.jobs.get(job);
    if (!s || this.state !== 'started' || this.paused || !s.owned.has(item) || s.disabled.has(item)) return false;
    return s.nextFire <= this.clock.now() + withinMs;
  }

  /** Hands requests to the executor, each with its item's ownership epoch (`owns`). */
  private fire(requests: readonly FireRequest[], sequential = false): Promise<void> {
    for (const r of requests as FireRequest[]) r.epoch = this.jobs.get(r.job)?.epochs.get(r.item) ?? 0;
    return this.opts.executor.fire(requests, sequential);
  }

  /** How many items have a takeover loop now: running, due, or waiting for a retry (for tests). */
  takeoverLoops(): number {
    return this.takeovers.loops;
  }

  /** Owned, enabled items found stalled by the last check, as `job#item`. */
  stalledItems(): readonly string[] {
    return this.stalled;
  }

  /**
   * While paused (clock skew), nothing is fired and no instant is taken: the fires due meanwhile
   * are handled when firing resumes (late: by the misfire policy) or by the items' next owners.
   */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.opts.log.warn({ paused }, paused ? 'firing paused' : 'firing resumed');
    this.paused = paused;
    if (paused || this.state !== 'started') return;
    // Takeovers waited while paused: plan the owned items now; then the fires due meanwhile.
    for (const [job, s] of this.jobs) for (const item of s.owned) this.takeovers.request(job, item);
    this.arm();
  }

  private clockTrusted(): boolean {
    return this.opts.clockTrusted?.() ?? true;
  }

  get started(): boolean {
    return this.state === 'started';
  }

  start(): void {
    if (this.state !== 'latent') return;
    this.state = 'started';
    for (const [job, s] of this.jobs) for (const item of s.owned) this.takeovers.request(job, item);
    this.arm();
    this.stallTimer = this.clock.setInterval(() => this.checkStalled(), STALL_CHECK_MS);
    this.stallTimer.unref?.();
  }

  /** Stops firing (running items are the executor's business). Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.clock.clearTimeout(this.timer);
    this.clock.clearInterval(this.stallTimer);
    this.takeovers.closeAll();
    this.opts.log.info('stopped firing');
  }

  /**
   * Sets a job's definition, the items this worker owns and the disabled ones; takes over new items.
   * `generation`: the assignment's (it grows by one with every write). When one was skipped (a
   * frozen process, watches that coalesced), an item kept may have moved away and back meanwhile,
   * and another member may run it now: every owned item is taken over (its takeover waits for a run
   * elsewhere). Fleet simulation, seed 4627: a worker frozen across two moves of an item, back to it,
   * began it while the member it had gone to still ran it (the item's record no longer says a run
   * its member's ledger holds: run protocol v2, step 4c).
   */
  setJob(def: JobDefinition, owned: readonly number[], disabled: readonly number[] = [], generation?: number): void {
    const now = this.clock.now();
    let s = this.jobs.get(def.name);
    if (!s || s.def.cron !== def.cron || s.def.timeZone !== def.timeZone) {
      const schedule = sharedSchedule(def.cron, def.timeZone);
      s = {
        def,
        schedule,
        owned: s?.owned ?? new Set(),
        disabled: new Set(),
        nextFire: schedule.next(new Date(now)).getTime(),
        prevFire: undefined,
        missed: s?.missed ?? new Map(),
        skipped: s?.skipped ?? new Map(),
        unsettled: new Map(),
        pendingTriggers: s?.pendingTriggers ?? new Map(),
        held: s?.held ?? new Map(),
        generation: s?.generation,
        epochs: s?.epochs ?? new Map(),
      };
      s.prevFire = instantBefore(schedule, s.nextFire);
      this.jobs.set(def.name, s);
    }
    s.def = def;
    const wasDisabled = s.disabled;
    s.disabled = new Set(disabled);
    if (!sameSet(wasDisabled, s.disabled)) this.opts.log.info({ job: def.name, disabled: [...s.disabled] }, 'disabled items changed');
    if (s.owned.size === 0 && s.nextFire <= now) {
      s.nextFire = s.schedule.next(new Date(now)).getTime();
      s.prevFire = instantBefore(s.schedule, s.nextFire);
    }
    const next = new Set(owned.filter((i) => i < def.shards));
    const added = [...next].filter((i) => !s.owned.has(i));
    const removed = [...s.owned].filter((i) => !next.has(i));
    const skipped = generation !== undefined && s.generation !== undefined && generation !== s.generation && generation !== s.generation + 1;
    const kept = skipped ? [...next].filter((i) => s.owned.has(i)) : [];
    if (generation !== undefined) s.generation = generation;
    if (kept.length > 0) this.opts.log.info({ job: def.name, items: kept, generation }, 'assignments skipped: taking the items kept over again');
    // An item enabled again is taken over like a new one: a fire left in flight while it was
    // disabled (its owner died) is run again now, never overwritten by the next regular begin.
    const enabled = [...next].filter((i) => s.owned.has(i) && wasDisabled.has(i) && !s.disabled.has(i));
    s.owned = next;
    if (added.length || removed.length) {
      this.opts.log.info({ job: def.name, items: [...next].sort((a, b) => a - b), added, removed }, 'owned items changed');
    }
    for (const item of removed) {
      s.unsettled.delete(item);
      s.pendingTriggers.delete(item);
      s.held.delete(item);
      // Fires kept to record with the item's next run here are all after its frontier
      // (lastScheduled): its next owner accounts for them. Recording them too would name as
      // missed or skipped fires that its next owner then runs.
      s.missed.delete(item);
      s.skipped.delete(item);
      this.takeovers.forget(def.name, item);
      void this.opts.ledger.retire(def.name, item, this.opts.executor.isBusy(def.name, item));
    }
    if (this.state === 'started') {
      // A new ownership for the items gained and those kept across a skipped generation: a fire
      // handed over before it is not begun (`owns` with its epoch); the takeover plans its instant.
      for (const item of [...added, ...kept]) s.epochs.set(item, (s.epochs.get(item) ?? 0) + 1);
      for (const item of [...added, ...enabled, ...kept]) this.takeovers.request(def.name, item);
      this.armFor(s);
    }
  }

  /**
   * After job `s` changed: re-arms only when `s` is due before the instant the timer is armed for.
   * A job that no longer is (it lost its items, or fires later now) leaves the timer as it is: it
   * may wake up early, for nothing, never late. (A full `arm` looks at every job: once per job
   * changed, a worker registering thousands of jobs spent seconds of blocked event loop there.)
   */
  private armFor(s: JobState): void {
    if (s.owned.size === 0) return;
    if (this.timer !== undefined && this.armedMs !== undefined && s.nextFire >= this.armedMs) return;
    this.arm();
  }

  removeJob(job: string): void {
    const s = this.jobs.get(job);
    if (!s) return;
    this.jobs.delete(job);
    for (const item of s.owned) this.takeovers.forget(job, item);
    if (this.state === 'started') this.arm();
  }

  private arm(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedMs = undefined;
    if (this.state !== 'started') return;
    let earliest = Infinity;
    for (const s of this.jobs.values()) if (s.owned.size > 0 && s.nextFire < earliest) earliest = s.nextFire;
    if (earliest === Infinity) return;
    // Wake up early enough for the batch's begin to be done at the fire instant (see Executor.fire).
    // setTimeout overflows past 2^31-1 ms (~24.8 days) into a 1 ms timer: wake up and re-arm.
    const delay = Math.max(0, earliest - this.opts.executor.prepareLeadMs() - this.clock.now());
    this.timer = delay > MAX_TIMER_MS ? this.clock.setTimeout(() => this.arm(), MAX_TIMER_MS) : this.clock.setTimeout(() => this.onTimer(), delay);
    this.armedMs = earliest;
  }

  private onTimer(): void {
    if (this.state !== 'started') return;
    // A clock that is off (or was stepped since its last reading) would take instants still to
    // come for due ones: none is taken on or recorded. The items are given up (their next owner's
    // takeover accounts for the fires from their last scheduled one), or, once the clock reads
    // right again, handled here, late, by the misfire policy.
    if (this.paused || !this.clockTrusted()) {
      this.clock.clearTimeout(this.timer);
      this.timer = this.clock.setTimeout(() => this.onTimer(), PAUSED_RECHECK_MS);
      this.armedMs = undefined;
      return;
    }
    // The clock is trusted again (it may never have been found off, so firing never paused):
    // the takeovers put off meanwhile are planned now; their items' fires wait for them.
    this.takeovers.resumePutOff();
    const now = this.clock.now();
    const horizon = now + this.opts.executor.prepareLeadMs();
    const batch: FireRequest[] = [];
    const catchUp: FireRequest[] = [];
    const lateJobs: Array<{ job: string; due: number; run: number; missed: number; policy: string }> = [];
    for (const s of this.jobs.values()) {
      if (s.owned.size === 0 || s.nextFire > horizon) continue;
      // Every instant due by now: more than one when this process stalled past whole periods.
      const due = [s.nextFire];
      let next = s.schedule.next(new Date(s.nextFire)).getTime();
      while (next <= now) {
        due.push(next);
        next = s.schedule.next(new Date(next)).getTime();
      }
      const prevFire = s.prevFire;
      s.nextFire = next;
      s.prevFire = due[due.length - 1];
      const fires = dueFires(s, due, prevFire);
      if (fires.late) lateJobs.push({ job: s.def.name, due: due.length, run: fires.run.length, missed: fires.notRun, policy: s.def.misfire });
      for (const item of s.owned) {
        if (s.disabled.has(item)) continue;
        let open = s.unsettled.get(item);
        if (!open) s.unsettled.set(item, (open = []));
        for (const t of due) open.push(t);
        if (open.length > MAX_UNSETTLED) open.splice(0, open.length - MAX_UNSETTLED);
        // The item's takeover is under way (or waits for its retry, or for another member's run
        // to end): its plan covers these instants, or they are handed over right after it
        // (`releaseHeld`). Begun now, each would answer `takeover` and ask for another round, and
        // the rounds of 20,000 items never caught up with the fires (10,000 × 8 bench).
        if (this.takeovers.pending(s.def.name, item)) {
          holdFires(s, item, due);
          continue;
        }
        fireItem(s, item, fires, batch, catchUp);
      }
    }
    // One line for all the jobs (a worker with thousands of jobs once logged a warning per job).
    if (lateJobs.length > 0) {
      this.opts.log.warn(
        { jobs: lateJobs.length, maxDue: lateJobs.reduce((n, j) => Math.max(n, j.due), 0), firstJobs: lateJobs.slice(0, LATE_JOBS_LOGGED) },
        'fires due while this process stalled',
      );
    }
    if (batch.length > 0) void this.fire(batch);
    // Several fires of one item (catch-up after a stall) run one after the other.
    if (catchUp.length > 0) void this.fire(catchUp, true);
    this.arm();
  }

  /**
   * The item's takeover round is over and planned up to `untilMs`: its fires held meanwhile
   * (`onTimer`) up to then are in that plan; the later ones are handed over now, as the timer
   * would have (late: by the misfire policy), each claiming back to the plan.
   */
  private releaseHeld(job: string, item: number, untilMs: number): void {
    const s = this.jobs.get(job);
    const held = s?.held.get(item);
    if (!s || !held) return;
    s.held.delete(item);
    const due = held.filter((t) => t > untilMs);
    // Paused, or the clock untrusted since: nothing is begun now. Dropped, never lost: they are
    // after the item's frontier, so its next begin cannot claim past them, and the takeover that
    // begin asks for (or the ones asked for when firing resumes) plans them.
    if (due.length === 0 || this.state !== 'started' || !s.owned.has(item) || s.disabled.has(item) || this.paused || !this.clockTrusted()) return;
    const batch: FireRequest[] = [];
    const catchUp: FireRequest[] = [];
    fireItem(s, item, dueFires(s, due, instantBefore(s.schedule, due[0]!)), batch, catchUp);
    if (batch.length > 0) void this.fire(batch);
    if (catchUp.length > 0) void this.fire(catchUp, true);
  }

  /** A fire handed to the executor did not start: keep what it was to record, and follow up. */
  private onNotStarted(req: FireRequest, why: 'overlap' | 'error' | BeginResult['status']): void {
    const s = this.jobs.get(req.job);
    if (!s) return;
    // What this request was to record, and this fire itself when it is to be recorded as missed
    // or skipped, are kept for the item's next run here only while they are after the item's
    // frontier (lastScheduled) and the item stays here: an overlap skip, a begin that failed.
    // Otherwise they are dropped, never lost: a later fire began first (duplicate: the frontier
    // passed them, which only a begin that accounted for them can do), another member's run holds
    // the item (busy, takeover: the takeover that follows plans from the frontier), or the item
    // left (its next owner plans from the frontier). A poisoned fire's begin recorded them.
    const self: FireNote = { count: 1, latest: req.fireTime };
    const owned = s.owned.has(req.item);
    if (owned && (why === 'overlap' || why === 'error')) {
      if (req.missed) keepNote(s, 'missed', req.item, req.missed);
      if (req.skipped) keepNote(s, 'skipped', req.item, req.skipped);
      if (why === 'overlap') keepNote(s, 'skipped', req.item, self);
      else if (req.reason !== 'trigger') keepNote(s, 'missed', req.item, self);
    }
    if (!owned) return;
    const fireMs = req.fireTime.getTime();
    const trigger = req.reason === 'trigger';
    switch (why) {
      case 'overlap':
        // The item still runs here: this fire is dropped by the overlap policy and recorded.
        this.settle(req.job, req.item, fireMs);
        break;
      case 'duplicate':
        // A scheduled fire or a re-run: already taken on (here or by another member). A missed
        // fire a takeover planned was skipped over by a later fire that began first (its run
        // queued behind that one): nobody ran it, so it is recorded as missed.
        if (!trigger) this.settle(req.job, req.item, fireMs);
        break;
      case 'poisoned':
        this.settle(req.job, req.item, fireMs);
        this.opts.log.error({ job: req.job, item: req.item, fireTime: req.fireTime.toISOString(), reason: req.poison?.reason }, 'fire given up: recorded as failed');
        break;
      case 'takeover':
        // A fire is left in flight by a run that did not end: take the item over first. A
        // scheduled fire is part of that plan (it comes after the item's last scheduled fire).
        if (trigger) s.pendingTriggers.set(req.item, req);
        this.takeovers.request(req.job, req.item);
        break;
      case 'error':
        // Could not be begun: recorded as missed with the item's next run (the stall check
        // notices an item that never begins again).
        if (trigger) {
          s.pendingTriggers.set(req.item, req);
          this.takeovers.request(req.job, req.item);
        }
        break;
      case 'malformed':
        // The item's record cannot be read: it is left alone (the ledger reported it).
        this.settle(req.job, req.item, fireMs);
        break;
      case 'gone':
        break;
      case 'started':
        break;
    }
  }

  /** Notes that the fate of the item's fire at `fireMs` (or, `upTo`, of all its fires to then) is settled. */
  private settle(job: string, item: number, fireMs: number, upTo = false): void {
    settleFires(this.jobs.get(job), item, fireMs, upTo);
  }

  /**
   * Runs a manual trigger (`zkctl trigger`) on the owned, enabled items it names (all when
   * `items` is null). `sequence` is the trigger node's sequence number: the run ledger runs a
   * trigger at most once per item (`lastTrigger`), apart from the schedule, so a trigger and a
   * scheduled fire never swallow one another. The fire time is the trigger's creation time.
   */
  trigger(job: string, fireTime: Date, sequence: number, items: readonly number[] | null, except: ReadonlySet<number> = new Set()): number[] {
    const s = this.jobs.get(job);
    if (!s || this.state !== 'started') return [];
    const targets = [...s.owned].filter((i) => !s.disabled.has(i) && !except.has(i) && (items === null || items.includes(i)));
    if (targets.length === 0) return [];
    this.opts.log.info({ job, items: targets, fireTime: fireTime.toISOString(), trigger: sequence }, 'manual trigger');
    const requests = targets.map((item) => ({ job, item, fireTime, attempt: 1, trigger: sequence, reason: 'trigger' as const }));
    // An item being taken over runs the trigger after its takeover: until then its record may not
    // say a run another member left in flight (its ledger alone holds it: run protocol v2, step 4c).
    const now = requests.filter((r) => {
      if (!this.takeovers.pending(job, r.item)) return true;
      s.pendingTriggers.set(r.item, r);
      return false;
    });
    if (now.length > 0) void this.fire(now, true);
    return targets;
  }

  /**
   * The stall check: an owned, enabled item whose latest fire instant passed STALL_GRACE_MS ago
   * without being begun, taken on elsewhere or recorded, and that does not run here, is reported
   * (error log, `onStalled`) and recovered by a takeover, which plans from what ZooKeeper holds
   * (re-runs a fire left in flight, clears an orphaned run in our ledger, records missed fires).
   */
  private checkStalled(): void {
    if (this.state !== 'started') return;
    const now = this.clock.now();
    const paused = this.paused || !this.clockTrusted();
    const found: string[] = [];
    for (const s of this.jobs.values()) {
      // The timer itself is late: every enabled item of the job is behind.
      const timerLate = s.owned.size > 0 && s.nextFire < now - STALL_GRACE_MS;
      for (const item of s.owned) {
        if (s.disabled.has(item) || paused) continue;
        const oldest = timerLate ? s.nextFire : s.unsettled.get(item)?.[0];
        if (oldest === undefined || oldest > now - STALL_GRACE_MS) continue;
        // An item running here is not stalled: asked before its key is made (a worker behind
        // has thousands of items with an instant this old, nearly all of them running).
        if (this.opts.executor.isBusy(s.def.name, item)) continue;
        const key = keyOf(s.def.name, item);
        if (this.takeovers.busy(key)) continue;
        found.push(key);
      }
    }
    const before = new Set(this.stalled);
    this.stalled = found;
    const fresh = found.filter((k) => !before.has(k));
    if (fresh.length > 0) {
      this.opts.log.error({ items: fresh.slice(0, 50), count: fresh.length, graceMs: STALL_GRACE_MS }, 'items stalled: a fire instant passed without a begin, a recorded miss or a recorded skip; recovering');
    }
    if (fresh.length > 0 || found.length !== before.size) this.opts.onStalled?.(found);
    for (const key of fresh) {
      const at = key.lastIndexOf('#');
      this.takeovers.request(key.slice(0, at), Number(key.slice(at + 1)));
    }
    // An item whose timer was late gets its timer re-armed too.
    if (found.length > 0) this.arm();
  }

}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** The executor's members the takeovers use but `fire` (the scheduler stamps the requests it hands over). */
function pickExecutor(e: FireTarget): Pick<FireTarget, 'holdsFire' | 'isBusy' | 'isStarting'> {
  return { holdsFire: (j, i, f) => e.holdsFire(j, i, f), isBusy: (j, i) => e.isBusy(j, i), isStarting: (j, i) => e.isStarting(j, i) };
}
