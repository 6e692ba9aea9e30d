import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import { LeaseLostError } from '../errors/lease-lost-error.js';
import { ShutdownError } from '../errors/shutdown-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { JobHandler } from './job-context.js';
import type { HandlerLoader } from './handler-loader.js';
import type { BeginResult, ReleaseRequest, RunLedger, RunReport } from './run-ledger.js';
import type { RunStages, StageStore } from './stage-store.js';
import { sleep, sleepUntil, systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import { mergeNote } from './fire-note.js';
import type { SandboxRunner } from './sandbox/sandbox-runner.js';
import { SandboxError } from '../errors/sandbox-error.js';
import { recordBegun, recordedReason, type RunRecorder } from './run-recorder.js';
import { ItemMap } from './item-map.js';
import { PreparedAttempt, outcomeOfAbort, undefinedJobAttempt, type Attempt, type AttemptResult, type AttemptSetting } from './prepared-attempt.js';
import { ActiveRun, type Gate, type Lane } from './active-run.js';
import type { FireRequest } from './fire-request.js';

export type { FireRequest } from './fire-request.js';
export type { RunReport } from './run-ledger.js';

export interface ExecutorEvents {
  /**
   * Its handler was entered: at `enteredAt` (wall-clock ms), `enteredMs` (monotonic ms). Told once
   * the run goes on from its entry: up to `AFTER_ENTRIES_MS` later (longer if the process froze).
   */
  started: [req: FireRequest, token: string, enteredAt: number, enteredMs: number];
  finished: [report: RunReport];
  /** A fire did not run: the item still ran (overlap), someone else held it, or it was a duplicate. */
  notStarted: [req: FireRequest, why: 'overlap' | 'error' | BeginResult['status']];
}

/** What the executor asks of the run ledger (`RunLedger`). */
export type ExecutorLedger = Pick<RunLedger, 'begin' | 'releaseThen' | 'recordAttempt' | 'fenceMoved' | 'confirmFence'>;

export interface ExecutorOptions {
  ledger: ExecutorLedger;
  stages: StageStore;
  loader: Pick<HandlerLoader, 'load' | 'loaded' | 'resolvePath'>;
  workerId: string;
  /** The current definition of a job (undefined when the worker no longer runs it). */
  definitionOf: (job: string) => JobDefinition | undefined;
  log: Logger;
  /** Time between SIGTERM and SIGKILL for aborted scripts. @default 5000 */
  killGraceMs?: number;
  /**
   * Whether the session's lease holds right now (`ZkClient.holdsLease`), asked right before
   * handlers are entered (for the runs of a batch begun ahead of their instant: as the instant
   * comes, and again every `LEASE_RECHECK_MS` while they are entered; once per run otherwise): a
   * worker whose event loop stalled past its lease learns it here, before the fire timers that
   * came due meanwhile start anything.
   * @default () => true
   */
  leaseHeld?: () => boolean;
  /**
   * Milliseconds left of the session's lease (`ZkClient.leaseRemainingMs`): a script being stopped
   * is killed no later than that, whatever its grace. @default none (the grace alone)
   */
  leaseRemainingMs?: () => number;
  /** Time and timers. @default systemClock */
  clock?: Clock;
  /** Source of randomness in [0, 1) for the retry backoff's jitter (seeded in the simulation). @default Math.random */
  random?: () => number;
  /** Runs the module handlers of jobs with `sandbox: thread | process` (their runs fail without it). */
  sandbox?: SandboxRunner;
  /** Told of every run that ends and every missed, skipped or poisoned fire a begin records (the run history). */
  recorder?: RunRecorder;
}

/**
 * Bounds of `prepareLeadMs()`: how early before its fire instant a batch is begun. At least 250 ms.
 * The begins of every worker of a host start at about the same moment (they all size their lead
 * alike), and on a busy host they share its cores: at 1,000 jobs × 8 items on four workers and two
 * cores, begins of 50–70 ms made the lead 100–140 ms, the four workers' begin work filled both
 * cores from about 120 ms before the instant, and when one of them was slower (its own scavenge, a
 * slow answer) that work ran into the instant and delayed every worker's entries (docs/BENCHMARKS.md,
 * 2026-12-06, 17:08: entries up to 79 ms late, three workers at once). Begun 250 ms ahead the
 * cores are idle again well before the instant (p99 of 60-s windows: median 5.9 ms against 8.1).
 * (It was 100 ms, enough for ZooKeeper's short collection pauses set off by the begins' own
 * burst; 250 covers those too.) A run begun ahead that an operator's forced
 * `remove`/`reshard` takes before the instant is not entered: the forced transaction writes our
 * member node, whose watch moves the fence, and a run whose fence moved reads our ledger before
 * its handler (`execute`; fleet simulation, seed 3946).
 */
export const MIN_PREPARE_LEAD_MS = 250;
export const MAX_PREPARE_LEAD_MS = 500;
/**
 * The last stretch of the wait for a fire instant, armed anew this long before it (`sleepUntil`).
 * Made in one piece, armed at the begin 250–500 ms ahead, the wait now and then ended late: four
 * workers on two cores at 1,000 jobs × 8 items, one woke 3.8 ms after its instant though both
 * cores had been idle for 1.2 ms of that (`perf sched`, 2026-12-07). Over eight alternating 60-s
 * windows each, the worker-instants with an entry over 5 ms late fell from 39 to 18.
 */
export const GATE_FINAL_WAIT_MS = 20;
/** While the handlers of an instant are being entered, the lease is asked for again after this long. */
export const LEASE_RECHECK_MS = 5;
/** How many recent begin durations size the lead. */
const LEAD_SAMPLES = 16;
/**
 * Most begins of scheduled fires that carry notes (fires not run, to record) sent in one ledger
 * call; such calls go one at a time (`holdNoted`). Each such begin writes its item's record and
 * history (about 700 bytes, two ops), where a begin without notes sets a bit of our ledger: a
 * worker that fell behind had every fire of its 20,000 items carry a note, and their begins, sent
 * all at once, held the ledger's one multi at a time for seconds, so that every item was being
 * begun or released and none ran (10,000 × 8 bench, 2026-12-07: 3,800 runs a second of 80,000,
 * entered 10 s late; docs/BENCHMARKS.md). About one multi's worth.
 */
export const NOTED_BEGINS_PER_CALL = 1000;
/**
 * How long the executor stays off the CPU once it has entered the handlers of an instant, before
 * it goes on with their runs (their outcomes, their releases): whatever else is due at the same
 * instant on this host (other workers, ZooKeeper) gets the cores meanwhile. Four workers and
 * ZooKeeper on two cores (the lateness bench): a worker whose turn came after another's
 * bookkeeping entered its handlers a scheduler tick late (4 or 8 ms) in about one instant in ten.
 */
export const AFTER_ENTRIES_MS = 2;

/** Marks a promise as handled; what it settles with is read elsewhere. */
const IGNORE = (): void => {};

/** A run of a gate's batch whose handler was not entered in its loop (`enterReady`). */
const NOT_ENTERED = Symbol('not entered');

/**
 * Runs items: one run at a time per item (the overlap policy decides what a fire does while the
 * item still runs), retries and timeouts per job, module handlers and script jobs. Every run is
 * bracketed by the run ledger's `begin`/`release` in ZooKeeper.
 */
export class Executor extends EventEmitter<ExecutorEvents> {
  private readonly lanes = new ItemMap<Lane>();
  private accepting = true;
  private leaseLost = false;
  /** When the lease was last asked for (monotonic ms; see `checkLeaseIfStale`). */
  private leaseAskedAt = Number.NEGATIVE_INFINITY;
  /** Durations (ms) of the most recent ledger begins, newest last. */
  private readonly beginDurations: number[] = [];
  /** Fires prepared early for an item that was still running: they go through `fire` at their instant. */
  private readonly deferred = new Map<number, { timer: TimerHandle; requests: FireRequest[] }>();
  /** Fires whose items were freed in this turn (their waiting fire claimed the item): begun together on the next. */
  private freedBatch: FireRequest[] = [];
  /**
   * Scheduled fires with notes whose items they claimed ('starting'), waiting for the ledger call of
   * such fires in flight to be answered (`holdNoted`): by lane, the longest waiting first. A due
   * fire of the item takes the place of its waiting one (`fire`).
   */
  private readonly notedWaiting = new Map<Lane, FireRequest>();
  /** Whether a ledger call of fires with notes is in flight (`sendNoted`). */
  private notedInFlight = false;
  private readonly clock: Clock;

  /** What every attempt shares (`PreparedAttempt`). */
  private readonly attemptSetting: AttemptSetting;

  constructor(private readonly opts: ExecutorOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.attemptSetting = { clock: this.clock, log: opts.log, workerId: opts.workerId, loader: opts.loader, killGraceMs: opts.killGraceMs, leaseRemainingMs: opts.leaseRemainingMs };
  }

  /** Number of runs in progress. */
  get running(): number {
    let n = 0;
    for (const [, , lane] of this.lanes.entries()) if (lane.current) n++;
    return n;
  }

  /** Whether the item has a run here (running, or begun and waiting for its fire time). */
  isBusy(job: string, item: number): boolean {
    return !!this.lanes.get(job, item)?.current;
  }

  /**
   * Whether a run here holds the item's fire at `fireTime`, or a begin of that fire is on its way
   * (our ledger may have it in flight already). A run our ledger has in flight at any other fire
   * has no run of ours behind it.
   */
  holdsFire(job: string, item: number, fireTime: Date): boolean {
    const lane = this.lanes.get(job, item);
    const req = lane?.current === 'starting' ? lane.starting : lane?.current?.req;
    return req !== undefined && req.fireTime.getTime() === fireTime.getTime();
  }

  /**
   * Whether a fire of the item is on its way to a begin here: being begun, or waiting in its lane
   * for the run before it (and that run's release) to end.
   */
  isStarting(job: string, item: number): boolean {
    const lane = this.lanes.get(job, item);
    return lane !== undefined && (lane.current === 'starting' || lane.queue.length > 0);
  }

  /**
   * How many items wait on ZooKeeper now: being begun (their begin sent, or a fire with notes
   * waiting for its call: `holdNoted`) or being released (the handler ended, the release not yet
   * written). Nearly every item of a worker that fell behind (for the metrics, read at a scrape).
   */
  ledgerWaits(): { begin: number; release: number } {
    let begin = 0;
    let release = 0;
    this.lanes.forEach((lane) => {
      if (lane.current === 'starting') begin++;
      else if (lane.current?.releasing) release++;
    });
    return { begin, release };
  }

  /** How many items run now (or are being begun), by job: only jobs with one (for the metrics: nothing made per item). */
  runningCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    this.lanes.forEach((lane, job) => {
      if (lane.current) counts.set(job, (counts.get(job) ?? 0) + 1);
    });
    return counts;
  }

  /**
   * How long before a fire instant the scheduler should hand its batch to `fire`, so that the
   * ledger's begin is done when the instant comes: twice the slowest of the recent begins, within
   * [MIN_PREPARE_LEAD_MS, MAX_PREPARE_LEAD_MS].
   */
  prepareLeadMs(): number {
    const slowest = this.beginDurations.reduce((a, b) => Math.max(a, b), 0);
    return Math.min(MAX_PREPARE_LEAD_MS, Math.max(MIN_PREPARE_LEAD_MS, Math.ceil(2 * slowest)));
  }

  /**
   * Fires a batch of items: one ledger transaction for all of them. A request whose fire time is
   * still ahead (prepared early) holds its item from now on (in flight in our ledger), and its handler is entered
   * at the fire time; if the item is still running now, the request waits for its fire time
   * instead and the overlap policy applies then. A run whose handler has ended and whose release
   * is still being written no longer runs: a fire for its item waits for that release (one per
   * item, the newest) and is begun right after it. `sequential` requests queue behind a running
   * run of the same item whatever the job's overlap policy (takeover re-runs and catch-up).
   */
  async fire(requests: readonly FireRequest[], sequential = false): Promise<void> {
    if (!this.accepting || requests.length === 0) return;
    const toBegin: FireRequest[] = [];
    const now = this.clock.now();
    for (const req of requests) {
      let lane = this.lanes.get(req.job, req.item);
      if (!lane) {
        lane = { current: undefined, starting: undefined, queue: [] }; // every field from the start: one object, no second array of properties
        this.lanes.set(req.job, req.item, lane);
      }
      // A lane marked 'starting' here is already in this batch: a second request queues behind it.
      if (!lane.current) {
        lane.current = 'starting';
        lane.starting = req;
        toBegin.push(req);
        continue;
      }
      if (!sequential && lane.current !== 'starting' && lane.current.releasing) {
        // Its run has ended and waits only for its release to be written (ZooKeeper is slow to
        // answer): the item no longer runs, whatever the overlap policy says of a running item.
        // The fire waits for the release and is begun right after it (the soak of 2026-12-03
        // lost a whole instant on every worker: a one-second stall of ZooKeeper made every
        // fire of the next instant "overlap" the runs it was still releasing). A fire prepared
        // ahead of its instant never displaces one that is due and waits already: it comes back
        // at its instant (ZooKeeper frozen for 1.5 s: one worker's next-second batch displaced
        // the whole waiting instant).
        if (req.fireTime.getTime() > now && lane.queue.length > 0) this.defer(req);
        else this.dropQueued(lane, req);
        continue;
      }
      if (!sequential && req.fireTime.getTime() > now) {
        this.defer(req);
        continue;
      }
      const waiting = sequential ? undefined : this.notedWaiting.get(lane); // the lane's `starting`, not begun yet
      if (waiting !== undefined && waiting.fireTime.getTime() < req.fireTime.getTime()) {
        // The item's earlier fire waits for its begin still (its notes to record with it): this
        // one takes its place, and its begin records that fire as skipped, as a fire that waits
        // for a release is displaced (`dropQueued`). The item's notes are then written by one
        // begin, not one per instant it waited.
        absorb(req, [waiting]);
        lane.starting = req;
        this.notedWaiting.set(lane, req); // keeps its place in the order of waiting
        continue;
      }
      const def = this.opts.definitionOf(req.job);
      if (sequential && req.reason === 'misfire' && lane.current !== 'starting' && lane.current.req.fireTime > req.fireTime) {
        // A missed fire planned by a takeover, while a later fire of the item already runs here:
        // its begin could only answer duplicate (skipped over). Said now rather than after that
        // run, so that it is recorded even if this worker loses its session before (fleet
        // simulation, seed 3123: the queue went with the session, and the fire was never recorded).
        // (A later fire still being begun is seen to in `start`.)
        this.emit('notStarted', req, 'duplicate');
        continue;
      }
      if (sequential) lane.queue.push(req);
      else if (def?.overlap === 'queue') this.dropQueued(lane, req);
      else if (def?.overlap === 'replace') {
        this.dropQueued(lane, req);
        if (lane.current && lane.current !== 'starting') lane.current.abort.abort(new ZkshardError('REPLACED', `replaced by the fire of ${req.fireTime.toISOString()}`));
      } else {
        // (Its fields made only when debug is on: an overloaded worker skips a fire per item and instant.)
        if (this.opts.log.isLevelEnabled('debug')) this.opts.log.debug({ job: req.job, item: req.item, fireTime: req.fireTime.toISOString() }, 'fire skipped: item still running');
        this.emit('notStarted', req, 'overlap');
      }
    }
    await this.beginClaimed(toBegin);
  }

  /**
   * Begins, in one ledger transaction, requests whose items `fire` (or `settleLane`) claimed for
   * them; scheduled fires with notes go through `holdNoted` first (unless `noted`: they did).
   */
  private async beginClaimed(toBegin: FireRequest[], noted = false): Promise<void> {
    if (!noted) toBegin = this.holdNoted(toBegin);
    if (toBegin.length === 0) return;
    let results: BeginResult[];
    const began = this.clock.monotonic();
    try {
      results = await this.opts.ledger.begin(toBegin);
      this.beginDurations.push(this.clock.monotonic() - began);
      if (this.beginDurations.length > LEAD_SAMPLES) this.beginDurations.shift();
    } catch (err) {
      this.opts.log.error({ err, items: toBegin.length }, 'could not start runs');
      for (const req of toBegin) {
        this.settleLane(req);
        this.emit('notStarted', req, 'error');
      }
      return;
    }
    /** One timer per fire instant still ahead: the handlers of its runs are entered when it fires. */
    const gates = new Map<number, Gate>();
    const gateOf = (fireMs: number): Gate | undefined => {
      const wait = fireMs - this.clock.now();
      if (wait <= 0) return undefined;
      let gate = gates.get(fireMs);
      if (!gate) {
        const ready: ActiveRun[] = [];
        // The lease is asked for as the gate opens, for every run it lets in (the handlers of its
        // batch are then entered one after another in the same turn: `checkLeaseIfStale`).
        const opened = sleepUntil(this.clock, fireMs, GATE_FINAL_WAIT_MS).then(() => {
          this.checkLease();
          this.enterReady(ready);
        });
        gates.set(fireMs, (gate = { opened, ready }));
      }
      return gate;
    };
    toBegin.forEach((req, i) => {
      const result = results[i]!;
      if (result.status === 'started' || result.status === 'poisoned') req.recorded = result.notes;
      if (this.opts.recorder) recordBegun(this.opts.recorder, req, result, this.opts.workerId, this.clock.now());
      if (result.status === 'started' && this.accepting) {
        this.start(req, result.token, gateOf(req.fireTime.getTime()));
      } else if (result.status === 'started') {
        // Begun, but the executor stopped accepting meanwhile (drain or lease loss): the handler
        // never runs here. The fire stays in flight, so the item's next owner runs it.
        void this.giveBack(req).finally(() => this.settleLane(req));
      } else {
        this.emit('notStarted', req, result.status);
        this.settleLane(req);
      }
    });
  }

  /**
   * Takes the scheduled fires with notes out of `toBegin`: they wait in `notedWaiting` for their own
   * ledger call, at most `NOTED_BEGINS_PER_CALL` a call and one call at a time (`sendNoted`), so that
   * the begins without notes never queue behind their writes. Returns the others (`toBegin` itself
   * when none has notes: the steady state makes nothing here).
   */
  private holdNoted(toBegin: FireRequest[]): FireRequest[] {
    let others: FireRequest[] | undefined;
    for (let i = 0; i < toBegin.length; i++) {
      const req = toBegin[i]!;
      if (!isNotedScheduled(req)) {
        others?.push(req);
        continue;
      }
      others ??= toBegin.slice(0, i);
      this.notedWaiting.set(this.lanes.get(req.job, req.item)!, req);
    }
    if (others === undefined) return toBegin;
    this.sendNoted();
    return others;
  }

  /** Sends the longest waiting fires with notes, unless a call of them is in flight; again when it is answered. */
  private sendNoted(): void {
    if (this.notedInFlight || this.notedWaiting.size === 0 || !this.accepting) return;
    const batch: FireRequest[] = [];
    for (const [lane, req] of this.notedWaiting) {
      this.notedWaiting.delete(lane);
      batch.push(req);
      if (batch.length === NOTED_BEGINS_PER_CALL) break;
    }
    this.notedInFlight = true;
    void this.beginClaimed(batch, true).finally(() => {
      this.notedInFlight = false;
      this.sendNoted();
    });
  }

  /** Whether our ledger still holds the run, read now after the fence moved. */
  private async stillHeld(req: FireRequest): Promise<'held' | 'gone' | 'unknown'> {
    try {
      return (await this.opts.ledger.confirmFence(req.job, req.item, req.fireTime)) ? 'held' : 'gone';
    } catch (err) {
      this.opts.log.warn({ err, job: req.job, item: req.item }, 'could not read our ledger after the fence moved: run not started, given back');
      return 'unknown';
    }
  }

  /** Releases a begun run whose handler was never entered, leaving its fire in flight (never rejects). */
  private async giveBack(req: FireRequest): Promise<void> {
    const report: RunReport = { job: req.job, item: req.item, fireTime: req.fireTime, attempt: req.attempt, outcome: 'interrupted', durationMs: 0 };
    if (!this.leaseLost) await new Promise<boolean>((done) => this.opts.ledger.releaseThen({ ...report, keepInFlight: true }, done));
    this.emit('finished', report);
  }

  /** Fires `req` at its fire time instead (its item was still running when it was prepared). */
  private defer(req: FireRequest): void {
    const at = req.fireTime.getTime();
    const group = this.deferred.get(at);
    if (group) {
      group.requests.push(req);
      return;
    }
    const timer = this.clock.setTimeout(() => {
      const due = this.deferred.get(at);
      this.deferred.delete(at);
      if (due) void this.fire(due.requests);
    }, at - this.clock.now());
    this.deferred.set(at, { timer, requests: [req] });
  }

  /**
   * Keeps one waiting scheduled fire per item (the newest); the ones it displaces are skipped, and
   * recorded by the begin of the one that displaced them (`absorb`).
   */
  private dropQueued(lane: Lane, req: FireRequest): void {
    const dropped = lane.queue.filter(displaceable);
    lane.queue = [...lane.queue.filter((q) => !dropped.includes(q)), req];
    absorb(req, dropped);
  }

  /** Stops accepting fires (shutdown or lease loss). */
  stopAccepting(): void {
    this.accepting = false;
    for (const [, , lane] of this.lanes.entries()) lane.queue.length = 0;
    // Not begun, and never will be here: their items are free (the next owner plans from the frontier).
    const waiting = [...this.notedWaiting.values()];
    this.notedWaiting.clear();
    for (const req of waiting) this.settleLane(req);
    for (const { timer } of this.deferred.values()) this.clock.clearTimeout(timer);
    this.deferred.clear();
  }

  /** Waits for running runs to finish, up to `graceMs`; then aborts the rest and waits for them. */
  async drain(graceMs: number): Promise<void> {
    this.stopAccepting();
    const all = () => this.activeRuns().map((r) => r.ended());
    const timer = sleep(this.clock, graceMs, { unref: true }).then(() => 'timeout' as const);
    if ((await Promise.race([Promise.all(all()).then(() => 'done'), timer])) === 'timeout') {
      const left = this.activeRuns();
      this.opts.log.warn({ runs: left.length }, 'grace period over: aborting running items');
      for (const run of left) run.abort.abort(new ShutdownError());
      await Promise.all(all());
    }
  }

  /** Right before handlers are entered: if the lease is gone (the watchdog was late), abort everything now. */
  private checkLease(): void {
    this.leaseAskedAt = this.clock.monotonic();
    if (this.opts.leaseHeld?.() ?? true) return;
    this.opts.log.warn('lease gone at the moment a run was to start (the event loop stalled past it): starting nothing');
    this.abortAll();
  }

  /**
   * Asks again once `LEASE_RECHECK_MS` passed since the lease was last asked for: entering the runs
   * of one instant lasts long only with thousands of items (20,000 per worker at 10,000 jobs × 8
   * items), and no handler may be entered after the lease is gone, nor the lease left unasked — its
   * check is what pings ZooKeeper while the event loop is this busy (an instant of 2,000 items
   * takes a few ms).
   */
  private checkLeaseIfStale(nowMs = this.clock.monotonic()): void {
    if (nowMs - this.leaseAskedAt >= LEASE_RECHECK_MS) this.checkLease();
  }

  /** Lease lost: abort everything at once; no outcome can be recorded any more. */
  abortAll(reason: Error = new LeaseLostError()): void {
    this.leaseLost = reason instanceof LeaseLostError;
    this.stopAccepting();
    for (const run of this.activeRuns()) run.abort.abort(reason);
  }

  private activeRuns(): ActiveRun[] {
    const out: ActiveRun[] = [];
    for (const [, , lane] of this.lanes.entries()) if (lane.current && lane.current !== 'starting') out.push(lane.current);
    return out;
  }

  private settleLane(req: FireRequest): void {
    const lane = this.lanes.get(req.job, req.item);
    if (!lane) return;
    if (lane.current instanceof ActiveRun) lane.current.end();
    lane.current = undefined;
    lane.starting = undefined;
    const next = lane.queue.shift();
    if (next && this.accepting) {
      // The item is the waiting fire's from now on; it is begun with the others freed in this
      // turn (a batch of releases frees thousands of items at once: one multi, not one each).
      const queued: FireRequest = { ...next, reason: next.reason === 'schedule' ? 'queued' : next.reason };
      lane.current = 'starting';
      lane.starting = queued;
      if (this.freedBatch.push(queued) === 1) this.clock.setImmediate(() => this.beginFreed());
    } else if (lane.queue.length === 0) this.lanes.delete(req.job, req.item);
  }

  private beginFreed(): void {
    const batch = this.freedBatch;
    this.freedBatch = [];
    if (this.accepting) void this.beginClaimed(batch);
    else for (const req of batch) this.settleLane(req);
  }

  /** The run holds its item from now on; its handler is entered once `gate` (its fire time) opens. */
  private start(req: FireRequest, token: string, gate: Gate | undefined): void {
    const lane = this.lanes.get(req.job, req.item)!;
    const run = new ActiveRun(req, this.opts.log);
    lane.current = run;
    lane.starting = undefined;
    // Missed fires a takeover queued behind this run while it was being begun were skipped over
    // by it (see `fire`): said now, not when it ends.
    const skippedOver = lane.queue.length === 0 ? lane.queue : lane.queue.filter((q) => q.reason === 'misfire' && q.fireTime < req.fireTime);
    if (skippedOver.length > 0) {
      lane.queue = lane.queue.filter((q) => !skippedOver.includes(q));
      for (const q of skippedOver) this.emit('notStarted', q, 'duplicate');
    }
    // Everything but the handler call is made ready before the fire time, so that at the instant
    // the handlers of a whole batch are entered one after the other with nothing in between.
    // (Anything thrown here is thrown again in `execute`, which frees the item.)
    let def: JobDefinition | undefined;
    let stages: RunStages | undefined;
    try {
      def = this.opts.definitionOf(req.job);
      stages = this.opts.stages.forRun(req.job, req.item, run.fireId, req.fireTime);
      const prepared = gate && this.prepareAttemptNow(run, def, token, req.attempt, stages);
      if (gate && prepared) {
        run.waiting = gate;
        run.ready = prepared;
        gate.ready.push(run);
        return;
      }
    } catch {
      /* execute's */
    }
    // Its end is `ActiveRun.ended`; what it throws (a fault of ours) goes to the process' unhandled-rejection handler.
    void this.execute(run, token, gate?.opened, stages === undefined ? undefined : { def, stages });
  }

  /**
   * A gate opened: enters the handlers of its runs made ready, one after another, and only then,
   * `AFTER_ENTRIES_MS` later, goes on with each (`runAttempts`). Between two
   * entries nothing is made but what the handler makes, so that a young-generation collection
   * rarely falls among them (an async frame and its awaits made per entry, 1.2 KB a run, made one
   * fall inside the entries of one instant in six at 2,000 runs a worker, and each one stopped the
   * entries still to come for ~20 ms). An entered run keeps `waiting` until it goes on.
   */
  private enterReady(ready: ActiveRun[]): void {
    const entered: unknown[] = new Array(ready.length);
    let any = false;
    for (let i = 0; i < ready.length; i++) {
      const run = ready[i]!;
      const prepared = run.ready!;
      entered[i] = NOT_ENTERED;
      let plain: boolean;
      // One reading of the clock serves the lease's check and the entry's time.
      const nowMs = this.clock.monotonic();
      try {
        if (!run.abort.aborted) this.checkLeaseIfStale(nowMs);
        plain = !run.abort.aborted && !this.opts.ledger.fenceMoved(run.req.job, run.req.item);
      } catch (err) {
        // As `execute` did when these threw in it: the run ends there, its item freed.
        run.leaveGate();
        prepared.dispose();
        this.settleLane(run.req);
        void Promise.reject(err); // to the process' unhandled-rejection handler, as a throw in `execute`
        continue;
      }
      if (plain) {
        run.startedMs = nowMs;
        run.startedAt = this.clock.now();
        const value = prepared.enter(run.startedAt); // ctx.startedAt: the same reading as the run's record
        // A handler that fails at once must not leave its rejection unhandled until its run goes
        // on (Node ends a process on an unhandled rejection); `outcome` still sees it.
        if (value instanceof Promise) value.then(undefined, IGNORE);
        entered[i] = value;
        any = true;
      } else {
        run.leaveGate();
        void this.afterGate(run, prepared.token, prepared, prepared.def, prepared.stages);
      }
    }
    if (any) this.clock.setTimeout(() => this.goOnAfterEntries(ready, entered), AFTER_ENTRIES_MS);
    else this.goOnAfterEntries(ready, entered);
  }

  /**
   * Goes on with each run `enterReady` entered (`entered[i]`, what its handler returned). A method,
   * not a closure made per instant: with its closure gone between instants, its optimized code went
   * at every full collection, and was compiled again (on a background thread, at an instant).
   */
  private goOnAfterEntries(ready: ActiveRun[], entered: unknown[]): void {
    for (let i = 0; i < ready.length; i++) {
      if (entered[i] === NOT_ENTERED) continue;
      const run = ready[i]!;
      const prepared = run.leaveGate()!;
      void this.runAttempts(run, prepared.token, prepared, prepared.def, prepared.stages, prepared.outcome(entered[i]));
    }
  }

  /** A run whose handler could not be made ready at its begin (or is due now): made ready, then entered at its fire time. */
  private async execute(run: ActiveRun, token: string, gate: Promise<void> | undefined, made: RunMaking | undefined): Promise<void> {
    // The item is freed (its lane settled) as the run ends, whichever way it ends.
    let handedOver = false;
    try {
      const { req, abort, fireId } = run;
      // (Made by `start` already, unless that threw: then again here, where a throw frees the item.)
      const { def, stages } = made ?? { def: this.opts.definitionOf(req.job), stages: this.opts.stages.forRun(req.job, req.item, fireId, req.fireTime) };
      const prepared = this.prepareAttemptNow(run, def, token, req.attempt, stages) ?? (await this.prepareAttempt(run, def, token, req.attempt, stages));
      if (gate) {
        await gate; // which asked for the lease as it opened
        if (!abort.aborted) this.checkLeaseIfStale();
      } else if (!abort.aborted) this.checkLease();
      handedOver = true;
      await this.afterGate(run, token, prepared, def, stages);
    } finally {
      if (!handedOver) this.settleLane(run.req);
    }
  }

  /**
   * At the run's fire time (the lease asked for): enters its handler at once, before this
   * function's first await, unless the run was aborted or its fence moved.
   */
  private async afterGate(run: ActiveRun, token: string, prepared: Attempt, def: JobDefinition | undefined, stages: RunStages): Promise<void> {
    let handedOver = false;
    try {
      const { req, abort } = run;
      // Our member node written since the run was begun (ahead of its instant): our own update, or an
      // operator's forced remove or reshard that took the run — the item may be someone else's
      // now (fleet simulation, seed 3946). Our ledger is read before the handler may be entered.
      const moved = !abort.aborted && this.opts.ledger.fenceMoved(req.job, req.item);
      const held = moved ? await this.stillHeld(req) : 'held';
      if (moved && !abort.aborted) this.checkLease(); // after a round trip to ZooKeeper
      if (abort.aborted || held === 'unknown') {
        // Lease lost or aborted before its fire time came, or our ledger could not be read: the
        // handler never ran; the item's next owner runs this fire (it stays in flight).
        prepared.dispose();
        await this.giveBack(req);
        return;
      }
      if (held === 'gone') {
        // Nothing to release: the run is gone from our ledger, and the fire stays in flight. Said as a begin that
        // found a fire left in flight (`takeover`): if the item is still ours, the scheduler takes
        // it over at once and runs the fire again; else its next owner does.
        prepared.dispose();
        run.log().warn('run not started: a forced remove or reshard took it before its fire time');
        this.emit('notStarted', req, 'takeover');
        return;
      }
      handedOver = true;
      await this.runAttempts(run, token, prepared, def, stages);
    } finally {
      if (!handedOver) this.settleLane(run.req);
    }
  }

  /**
   * Runs the attempts (the first one entered already when `firstOutcome` is given), then ends the
   * run (`endRun`); settles once its item is freed. The usual run — one attempt — goes from its
   * entry to its release without an async frame: a worker holds 2,000 of them across the write of
   * their releases at 1,000 jobs × 8 items, and such a frame (its registers, its await) was 660 of
   * the 2,100 bytes each held then, all of it promoted to the old generation.
   */
  private runAttempts(run: ActiveRun, token: string, first: Attempt, def: JobDefinition | undefined, stages: RunStages, firstOutcome?: Promise<AttemptResult>): Promise<void> {
    let running: Promise<AttemptResult | EndOfAttempts>;
    try {
      if (!firstOutcome) {
        // Durations on the monotonic clock: a wall-clock step must never make one negative (a
        // negative duration is a record the checked decoders refuse, and the item would be left
        // alone). A run entered at its gate was timed there.
        run.startedMs = this.clock.monotonic();
        run.startedAt = this.clock.now();
      }
      const entered = firstOutcome ?? first.run();
      this.emit('started', run.req, token, run.startedAt, run.startedMs);
      running = def !== undefined && def.retry.attempts > 1 ? this.retryAttempts(run, token, def, stages, entered) : entered;
    } catch (err) {
      this.settleLane(run.req);
      return Promise.reject(err);
    }
    return running.then(
      (end) => this.endRun(run, token, stages, end),
      (err: unknown) => {
        this.settleLane(run.req);
        throw err;
      },
    );
  }

  /** Retries a failed attempt while the job's retry policy allows; settles with the last attempt that really ran. */
  private async retryAttempts(run: ActiveRun, token: string, def: JobDefinition, stages: RunStages, first: Promise<AttemptResult>): Promise<EndOfAttempts> {
    const { req, abort } = run;
    let attempt = req.attempt;
    let { outcome, error } = await first;
    for (let tries = 1; outcome === 'failed' && tries < def.retry.attempts && !abort.aborted; tries++) {
      const delay = backoff(def.retry, tries, this.opts.random);
      run.log().warn({ attempt, delayMs: delay, error }, 'attempt failed; retrying');
      let prepared: Attempt;
      try {
        await sleep(this.clock, delay, { signal: abort.signal });
        // The next attempt is made only once it is recorded (and we still hold the run); the
        // report names the last attempt that really ran.
        await this.opts.ledger.recordAttempt(req.job, req.item, req.fireTime, attempt + 1);
        attempt++;
        prepared = this.prepareAttemptNow(run, def, token, attempt, stages) ?? (await this.prepareAttempt(run, def, token, attempt, stages));
        if (!abort.aborted) this.checkLease();
        if (abort.aborted) {
          prepared.dispose(); // never run
          throw abort.reason;
        }
      } catch (err) {
        if (!abort.aborted) run.log().warn({ err, attempt: attempt + 1 }, 'retry not made: could not record it');
        outcome = outcomeOfAbort(abort.reason, outcome);
        break;
      }
      ({ outcome, error } = await prepared.run());
    }
    return { outcome, error, attempt };
  }

  /**
   * The attempts are over: writes the release, then tells the outcome and frees the item. What the
   * run's end is made of is one object, the release request (a `RunReport` too), and one callback
   * for the release: no promise held per run until the release commits (see `RunReleaser.releaseThen`).
   */
  private endRun(run: ActiveRun, token: string, stages: RunStages, end: AttemptResult | EndOfAttempts): void {
    let ending: ReleaseRequest;
    try {
      const { req } = run;
      const attempt = 'attempt' in end ? end.attempt : req.attempt;
      const { outcome, error } = end;
      const durationMs = Math.max(0, Math.round(this.clock.monotonic() - run.startedMs));
      // A manual trigger's outcome is recorded at once (its operator watches for it); a scheduled
      // success, held by our ledger alone, writes our ledger only (run protocol v2, step 4c).
      ending = { job: req.job, item: req.item, fireTime: req.fireTime, attempt, outcome, durationMs, error, keepInFlight: outcome === 'interrupted', recordOutcome: req.trigger !== undefined };
      // A success is logged at debug (the metrics and the run history count it); anything else at warn.
      if (outcome !== 'success') run.log().warn({ attempt, outcome, durationMs, error, reason: req.reason }, 'run finished');
      else if (this.opts.log.isLevelEnabled('debug')) run.log().debug({ attempt, outcome, durationMs, reason: req.reason }, 'run finished');
      run.releasing = true;
      if (!this.leaseLost) {
        const released = ending;
        this.opts.ledger.releaseThen(released, (written) => this.runEnded(run, token, stages, released, written));
        return;
      }
    } catch (err) {
      this.settleLane(run.req);
      throw err;
    }
    this.runEnded(run, token, stages, ending, true);
  }

  /**
   * Its release written (or none to write): tells the outcome, and frees the item. Called back by the
   * releaser, so it never throws: what a listener throws is logged.
   */
  private runEnded(run: ActiveRun, token: string, stages: RunStages, report: RunReport, written: boolean): void {
    try {
      if (!written) run.log().warn('run outcome not recorded (the run was no longer ours)');
      const { job, item, fireTime, attempt, outcome, durationMs, error } = report;
      this.opts.recorder?.record({ job, item, fireTime, attempt, outcome, durationMs, error, fireId: run.fireId, worker: this.opts.workerId, fencingToken: token, reason: recordedReason(run.req.reason), startedAt: new Date(run.startedAt), endedAt: new Date(this.clock.now()), stagesDone: stages.completedSoFar });
      this.emit('finished', report);
    } catch (err) {
      run.log().error({ err }, 'telling the end of a run failed');
    } finally {
      this.settleLane(run.req);
    }
  }

  /**
   * Makes one attempt ready at once when its module handler is loaded already (the usual case: an
   * earlier run loaded it); undefined otherwise — a handler still to be loaded, a script, a
   * sandboxed handler, a job this worker does not define — for `prepareAttempt`. No promise per
   * run: a worker prepares thousands at once.
   */
  private prepareAttemptNow(run: ActiveRun, def: JobDefinition | undefined, token: string, attempt: number, stages: RunStages): PreparedAttempt | undefined {
    if (!def || def.handler === undefined || def.sandbox === 'thread' || def.sandbox === 'process') return undefined;
    const handler = this.opts.loader.loaded(def.handler);
    return handler && new PreparedAttempt(this.attemptSetting, run, def, token, attempt, stages, handler, undefined);
  }

  /**
   * Makes one attempt ready (`PreparedAttempt`): its context and signal, its handler loaded.
   */
  private async prepareAttempt(run: ActiveRun, def: JobDefinition | undefined, token: string, attempt: number, stages: RunStages): Promise<Attempt> {
    if (!def) return undefinedJobAttempt(run.req.job);
    let handler: JobHandler | undefined;
    let loadError: unknown;
    if (def.handler !== undefined) {
      try {
        if (def.sandbox === 'thread' || def.sandbox === 'process') {
          if (!this.opts.sandbox) throw new SandboxError('SANDBOX_UNAVAILABLE', `job ${def.name} has sandbox: ${def.sandbox}, but this worker runs no sandboxes`);
          handler = this.opts.sandbox.handler(def.sandbox, this.opts.loader.resolvePath(def.handler));
        } else handler = await this.opts.loader.load(def.handler);
      } catch (err) {
        loadError = err;
      }
    }
    return new PreparedAttempt(this.attemptSetting, run, def, token, attempt, stages, handler, loadError);
  }
}


/** How the attempts of a run that may be retried ended: the last attempt that really ran. */
interface EndOfAttempts extends AttemptResult {
  attempt: number;
}

/** A run's definition and stages, as its attempts are made from them. */
interface RunMaking {
  def: JobDefinition | undefined;
  stages: RunStages;
}

/** Exponential backoff with full jitter on the upper half, bounded by `maxBackoffMs`. */
export function backoff(retry: JobDefinition['retry'], failures: number, random: () => number = Math.random): number {
  const base = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** (failures - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

/**
 * A fire a later one of its item may take the place of while it waits (`absorb`): a scheduled fire,
 * or one that waited for its item. A catch-up's, a re-run's or a trigger's fire runs whatever comes after it.
 */
function displaceable(req: FireRequest): boolean {
  return req.reason === 'schedule' || req.reason === 'queued';
}

/** A displaceable fire whose begin records fires not run: `holdNoted`'s. */
function isNotedScheduled(req: FireRequest): boolean {
  return (req.missed !== undefined || req.skipped !== undefined) && displaceable(req) && req.poison === undefined && !req.rerun;
}

/**
 * Makes `req` account for the fires it displaced (waiting ones of its item, not begun): their
 * notes become its own, and each is recorded by its begin as skipped, which takes the item's
 * `lastScheduled` past them (so a note kept for a later run would be lost with this process: fleet
 * simulation, seed 40). Its claim (BeginAsk.after) reaches back through each one that is the
 * instant right before what it claims so far, and no further: fires between them that are still
 * queued (a catch-up) are not its to account for (fleet simulation, seed 25571: a claim merged
 * past them let the frontier skip two fires).
 */
function absorb(req: FireRequest, displaced: readonly FireRequest[]): void {
  for (const old of displaced) {
    req.missed = mergeNote(req.missed, old.missed);
    req.skipped = mergeNote(mergeNote(req.skipped, old.skipped), { count: 1, latest: old.fireTime });
  }
  for (let chained = true; chained && req.after !== undefined; ) {
    chained = false;
    for (const old of displaced) {
      if (old.fireTime.getTime() === req.after!.getTime()) {
        req.after = old.after;
        chained = true;
        break;
      }
    }
  }
}
