import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import type { Executor, FireRequest } from '../executor/executor.js';
import type { RunLedger } from '../executor/run-ledger.js';
import { CronSchedule } from '../cron/cron-schedule.js';
import { planTakeover } from './plan-takeover.js';
import { decodeMarker } from '../model/running-marker.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

interface JobState {
  def: JobDefinition;
  schedule: CronSchedule;
  owned: Set<number>;
  /** Owned items an operator disabled: they do not fire. */
  disabled: Set<number>;
  /** ms since epoch of the next regular fire. */
  nextFire: number;
  /** Missed fires to record with the item's next run. */
  missed: Map<number, { count: number; latest: Date }>;
  /** Fires the overlap policy dropped, to record with the item's next run. */
  skipped: Map<number, { count: number; latest: Date }>;
}

export interface FireSchedulerOptions {
  zk: ZkClient;
  paths: ZkPaths;
  executor: Executor;
  ledger: RunLedger;
  log: Logger;
  /** This worker's member name (a running marker of ours is our own run, not someone else's). */
  memberName: () => string;
}

/**
 * Fires this worker's own items on their jobs' cron schedules: one timer for the earliest next
 * fire of all jobs; every item due at an instant goes to the executor as one batch, handed over
 * `executor.prepareLeadMs()` ahead of the instant so that its markers are taken when it comes
 * (the handlers are entered at the instant itself). When the worker takes over an item it first
 * plans the takeover (re-run of an interrupted fire, missed fires by the misfire policy).
 */
export class FireScheduler {
  private readonly jobs = new Map<string, JobState>();
  private timer: NodeJS.Timeout | undefined;
  private state: 'latent' | 'started' | 'stopped' = 'latent';
  private paused = false;
  private takeoverFires: FireRequest[] = [];
  /** Items whose running marker (held by another run) is watched, as `job#item`. */
  private readonly watching = new Set<string>();

  constructor(private readonly opts: FireSchedulerOptions) {
    opts.executor.on('notStarted', (req, why) => {
      if (why === 'busy') this.watchMarker(req.job, req.item);
      const s = this.jobs.get(req.job);
      if ((why !== 'overlap' && why !== 'error') || !s) return;
      // Not started: keep what this request was to record, plus itself (skipped by the overlap
      // policy, or missed because it could not be started), for the item's next run.
      const self = { count: 1, latest: req.fireTime };
      if (why === 'overlap') s.skipped.set(req.item, mergeNote(mergeNote(s.skipped.get(req.item), req.skipped), self));
      else if (req.skipped) s.skipped.set(req.item, mergeNote(s.skipped.get(req.item), req.skipped));
      const missed = mergeNote(s.missed.get(req.item), req.missed);
      if (why === 'error') s.missed.set(req.item, mergeNote(missed, self));
      else if (missed) s.missed.set(req.item, missed);
    });
  }

  /** Items owned per job (for status and tests). */
  owned(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [job, s] of this.jobs) out[job] = [...s.owned].sort((a, b) => a - b);
    return out;
  }

  /** While paused (clock skew), due fires are not run; they count as missed. */
  setPaused(paused: boolean): void {
    if (this.paused !== paused) this.opts.log.warn({ paused }, paused ? 'firing paused' : 'firing resumed');
    this.paused = paused;
  }

  get started(): boolean {
    return this.state === 'started';
  }

  start(): void {
    if (this.state !== 'latent') return;
    this.state = 'started';
    for (const [job, s] of this.jobs) for (const item of s.owned) void this.takeover(job, item);
    this.arm();
  }

  /** Stops firing (running items are the executor's business). Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.opts.log.info('stopped firing');
  }

  /** Sets a job's definition, the items this worker owns and the disabled ones; takes over new items. */
  setJob(def: JobDefinition, owned: readonly number[], disabled: readonly number[] = []): void {
    const now = Date.now();
    let s = this.jobs.get(def.name);
    if (!s || s.def.cron !== def.cron || s.def.timeZone !== def.timeZone) {
      const schedule = CronSchedule.parse(def.cron, def.timeZone);
      s = { def, schedule, owned: s?.owned ?? new Set(), disabled: new Set(), nextFire: schedule.next(new Date(now)).getTime(), missed: s?.missed ?? new Map(), skipped: s?.skipped ?? new Map() };
      this.jobs.set(def.name, s);
    }
    s.def = def;
    const wasDisabled = s.disabled;
    s.disabled = new Set(disabled);
    if (!sameSet(wasDisabled, s.disabled)) this.opts.log.info({ job: def.name, disabled: [...s.disabled] }, 'disabled items changed');
    if (s.owned.size === 0 && s.nextFire <= now) s.nextFire = s.schedule.next(new Date(now)).getTime();
    const next = new Set(owned.filter((i) => i < def.shards));
    const added = [...next].filter((i) => !s.owned.has(i));
    const removed = [...s.owned].filter((i) => !next.has(i));
    s.owned = next;
    if (added.length || removed.length) {
      this.opts.log.info({ job: def.name, items: [...next].sort((a, b) => a - b), added, removed }, 'owned items changed');
    }
    for (const item of removed) void this.opts.ledger.retire(def.name, item, this.opts.executor.isBusy(def.name, item));
    if (this.state === 'started') {
      for (const item of added) void this.takeover(def.name, item);
      this.arm();
    }
  }

  removeJob(job: string): void {
    if (this.jobs.delete(job) && this.state === 'started') this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state !== 'started') return;
    let earliest = Infinity;
    for (const s of this.jobs.values()) if (s.owned.size > 0 && s.nextFire < earliest) earliest = s.nextFire;
    if (earliest === Infinity) return;
    // Wake up early enough for the batch's begin to be done at the fire instant (see Executor.fire).
    // setTimeout overflows past 2^31-1 ms (~24.8 days) into a 1 ms timer: wake up and re-arm.
    const delay = Math.max(0, earliest - this.opts.executor.prepareLeadMs() - Date.now());
    this.timer = delay > MAX_TIMER_MS ? setTimeout(() => this.arm(), MAX_TIMER_MS) : setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    if (this.state !== 'started') return;
    const now = Date.now();
    const horizon = now + this.opts.executor.prepareLeadMs();
    const batch: FireRequest[] = [];
    for (const s of this.jobs.values()) {
      if (s.owned.size === 0 || s.nextFire > horizon) continue;
      let fireTime = s.nextFire;
      let late = 0;
      let lateLatest = 0;
      let next = s.schedule.next(new Date(fireTime)).getTime();
      while (next <= now) {
        late++; // this process stalled past whole periods: run the latest fire, record the others
        lateLatest = fireTime;
        fireTime = next;
        next = s.schedule.next(new Date(next)).getTime();
      }
      s.nextFire = next;
      const when = new Date(fireTime);
      if (late > 0) this.opts.log.warn({ job: s.def.name, missed: late }, 'fires missed while this process stalled');
      for (const item of s.owned) {
        if (s.disabled.has(item)) continue;
        if (this.paused) {
          const m = s.missed.get(item);
          s.missed.set(item, { count: (m?.count ?? 0) + 1 + late, latest: when });
          continue;
        }
        let missed = s.missed.get(item);
        s.missed.delete(item);
        if (late > 0) missed = { count: (missed?.count ?? 0) + late, latest: new Date(lateLatest) };
        const skipped = s.skipped.get(item);
        s.skipped.delete(item);
        batch.push({ job: s.def.name, item, fireTime: when, attempt: 1, reason: 'schedule', missed, skipped });
      }
    }
    if (batch.length > 0) void this.opts.executor.fire(batch);
    this.arm();
  }

  /** Plans what a new owner does first; see `planTakeover`. */
  private async takeover(job: string, item: number): Promise<void> {
    const s = this.jobs.get(job);
    if (!s || !s.owned.has(item) || s.disabled.has(item) || this.state !== 'started') return;
    try {
      const progress = await this.opts.ledger.load(job, item, true);
      const marker = decodeMarker((await this.opts.zk.getDataIfExists(this.opts.paths.running(job, item)))?.data);
      if (marker?.member === this.opts.memberName()) return; // our own run: nothing to take over
      const plan = planTakeover({
        def: s.def,
        schedule: s.schedule,
        progress,
        markerHeld: marker !== undefined,
        until: new Date(s.nextFire - 1),
        bornAt: this.opts.ledger.createdAt(job, item),
      });
      if (plan.waitForMarker) {
        this.opts.log.info({ job, item, holder: marker?.worker }, 'item still running elsewhere: waiting for its release');
        this.watchMarker(job, item);
        return;
      }
      const requests: FireRequest[] = [];
      if (plan.rerun) requests.push({ job, item, fireTime: plan.rerun.fireTime, attempt: plan.rerun.attempt, rerun: true, reason: 'failover' });
      for (const fireTime of plan.fires) requests.push({ job, item, fireTime, attempt: 1, reason: 'misfire' });
      if (plan.missed) {
        this.opts.log.warn({ job, item, missed: plan.missed.count, policy: s.def.misfire }, 'fires missed before takeover');
        if (requests[0]) requests[0].missed = plan.missed;
        else s.missed.set(item, plan.missed);
      }
      if (requests.length > 0) {
        this.opts.log.info({ job, item, rerun: plan.rerun?.fireTime.toISOString(), catchUp: plan.fires.length }, 'taking over item');
        this.fireTakeover(requests);
      }
    } catch (err) {
      if (err instanceof ZkClosedError || this.opts.zk.signal.aborted || this.state !== 'started') return;
      this.opts.log.warn({ err, job, item }, 'takeover failed; retrying');
      setTimeout(() => void this.takeover(job, item), 250).unref();
    }
  }

  /**
   * Hands takeover fires to the executor, gathered over one event-loop turn: the takeovers of many
   * items at once (a worker joining, a failover) begin in one transaction.
   */
  private fireTakeover(requests: readonly FireRequest[]): void {
    if (this.takeoverFires.length === 0) {
      setImmediate(() => {
        const batch = this.takeoverFires;
        this.takeoverFires = [];
        if (this.state === 'started') void this.opts.executor.fire(batch, true);
      });
    }
    this.takeoverFires.push(...requests);
  }

  /**
   * Runs a manual trigger (`zkctl trigger`) on the owned, enabled items it names (all when
   * `items` is null). The fire time is the trigger's creation time on the ZooKeeper server, so a
   * trigger runs at most once per item: the run ledger refuses a fire at or before the item's
   * last scheduled one.
   */
  trigger(job: string, fireTime: Date, items: readonly number[] | null, except: ReadonlySet<number> = new Set()): number[] {
    const s = this.jobs.get(job);
    if (!s || this.state !== 'started') return [];
    const targets = [...s.owned].filter((i) => !s.disabled.has(i) && !except.has(i) && (items === null || items.includes(i)));
    if (targets.length === 0) return [];
    this.opts.log.info({ job, items: targets, fireTime: fireTime.toISOString() }, 'manual trigger');
    void this.opts.executor.fire(
      targets.map((item) => ({ job, item, fireTime, attempt: 1, reason: 'trigger' as const })),
      true,
    );
    return targets;
  }

  /** Plans the item again once the marker another run holds is gone. */
  private watchMarker(job: string, item: number): void {
    if (!this.jobs.get(job)?.owned.has(item)) return;
    const key = `${job}#${item}`;
    if (this.watching.has(key)) return; // one watch per item, so one release means one takeover
    this.watching.add(key);
    const path = this.opts.paths.running(job, item);
    const settle = (): void => {
      this.watching.delete(key);
    };
    void this.opts.zk
      .exists(path, (event) => {
        settle();
        if (event.type === 'deleted') void this.takeover(job, item);
        else this.watchMarker(job, item);
      })
      .then((stat) => {
        if (stat !== null) return;
        settle();
        void this.takeover(job, item);
      })
      .catch(settle);
  }
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

type Note = { count: number; latest: Date };

function mergeNote(a: Note | undefined, b: Note): Note;
function mergeNote(a: Note | undefined, b: Note | undefined): Note | undefined;
function mergeNote(a: Note | undefined, b: Note | undefined): Note | undefined {
  if (!a) return b;
  if (!b) return a;
  return { count: a.count + b.count, latest: a.latest > b.latest ? a.latest : b.latest };
}
