import type { JobDefinition } from '../config/job-definition.js';
import type { ProgressRecord } from '../model/progress-record.js';

/** The part of a cron schedule the planner needs. */
export interface FireTimes {
  /** First fire time strictly after `after`. */
  next(after: Date): Date;
}

export interface TakeoverInput {
  /** `maxFailovers` (default 1): how many lost owners one fire may cost before it is given up. */
  def: Pick<JobDefinition, 'misfire' | 'maxCatchUp' | 'failover'> & { maxFailovers?: number };
  schedule: FireTimes;
  progress: ProgressRecord;
  /** Another member (the previous owner, or a deposed one) still runs the item (its ledger has it in flight). */
  runElsewhere: boolean;
  /** Fires after this instant belong to the regular schedule, not to the takeover. */
  until: Date;
  /**
   * When the item came into being (its znode's creation time). An item nobody ever took a fire on
   * is accountable from then: an owner that died before its first fire must not make the fires
   * due since look like they never existed. Undefined: only fires after `until` count.
   */
  bornAt?: Date;
}

export interface TakeoverPlan {
  /** Wait until the run elsewhere ends, then plan again. */
  waitForRun: boolean;
  /**
   * The interrupted fire to run again (failover), with its next attempt number and how many runs
   * of it were cut short by a lost owner so far (those owners' workers).
   */
  rerun?: { fireTime: Date; attempt: number; failovers: { count: number; workers: string[] } };
  /**
   * The interrupted fire is not run again: its runs were cut short by lost owners more than the
   * job's `maxFailovers` times (a poison fire, e.g. a handler that stalls every worker it runs on),
   * or the job has `failover: false`. It is recorded as failed.
   */
  poison?: { fireTime: Date; attempt: number; reason: string };
  /** Missed fires to run now, oldest first. */
  fires: Date[];
  /**
   * The item's frontier the plan counts from (`lastScheduled`, else its creation): `missed` and
   * `fires` are every instant after it up to `until`, in order (see `BeginAsk.after`).
   */
  from?: Date;
  /** Missed fires not run (by policy or bound), to record: consecutive instants. */
  missed?: { count: number; latest: Date; earliest?: Date };
}

/** Default of a job's `maxFailovers`: a fire is re-run after one lost owner, given up after two. */
export const DEFAULT_MAX_FAILOVERS = 1;

/** Most fire times counted when measuring a gap; beyond it the count reads as "at least". */
const COUNT_LIMIT = 100_000;

/**
 * Decides what a new owner of an item does before it just follows the schedule: run again the
 * fire the previous owner was in the middle of (`failover`), and handle the fires nobody took on
 * since the last one recorded, by the job's `misfire` policy. Pure: no I/O, no clock.
 */
export function planTakeover(input: TakeoverInput): TakeoverPlan {
  const { def, schedule, progress, runElsewhere, until } = input;
  if (runElsewhere) return { waitForRun: true, fires: [] };
  const plan: TakeoverPlan = { waitForRun: false, fires: [] };
  const inFlight = progress.inFlight;
  if (inFlight && def.failover) {
    // A run handed back on shutdown was not cut short by a lost owner: it costs no failover.
    const lost = inFlight.interrupted ? 0 : 1;
    const failovers = { count: (inFlight.failovers ?? 0) + lost, workers: [...(inFlight.down ?? []), ...(lost ? [inFlight.worker] : [])] };
    const fireTime = new Date(inFlight.fireTime);
    const max = def.maxFailovers ?? DEFAULT_MAX_FAILOVERS;
    if (failovers.count > max) {
      const reason = `poisoned: its runs were cut short by the loss of their worker ${failovers.count} times (more than maxFailovers ${max}): ${failovers.workers.join(', ')}`;
      plan.poison = { fireTime, attempt: inFlight.attempt + 1, reason };
    } else {
      plan.rerun = { fireTime, attempt: inFlight.attempt + 1, failovers };
    }
  } else if (inFlight) {
    // Failover off: the fire is not run again, but it must be closed (recorded as failed) by the
    // takeover's first begin: no other begin may overwrite a fire left in flight (decideBegin).
    plan.poison = { fireTime: new Date(inFlight.fireTime), attempt: inFlight.attempt + 1, reason: `not run again: its run was cut short (worker ${inFlight.worker}) and failover is off for this job` };
  }
  // With no scheduled fire taken on yet, the fires count from the item's creation: a fire left in
  // flight is then a trigger, whose fire time is not on the schedule (counting from it skipped the
  // scheduled fires before it: fleet simulation, seed 5304).
  const last = progress.lastScheduled ?? input.bornAt?.toISOString() ?? inFlight?.fireTime;
  if (last === undefined) return plan; // nothing to account for before the regular schedule
  plan.from = new Date(last);
  const missedTimes: Date[] = [];
  let notRun = 0;
  let latestNotRun: Date | undefined;
  let earliestNotRun: Date | undefined;
  const keep = misfireKeep(def);
  let seen = 0;
  for (let t = schedule.next(new Date(last)); t.getTime() <= until.getTime() && seen < COUNT_LIMIT; t = schedule.next(t)) {
    seen++;
    missedTimes.push(t);
    if (missedTimes.length > keep) {
      latestNotRun = missedTimes.shift();
      earliestNotRun ??= latestNotRun;
      notRun++;
    }
  }
  plan.fires = missedTimes;
  if (notRun > 0 && latestNotRun) plan.missed = { count: notRun, latest: latestNotRun, ...(earliestNotRun && { earliest: earliestNotRun }) };
  return plan;
}

/**
 * How many of a run of fires nobody could take on at their time are still run, newest kept:
 * `fire-once` the latest, `catch-up` the latest `maxCatchUp`, `skip` none. The others are
 * recorded as missed. Used for takeovers and for fires a stalled process woke up late for.
 */
export function misfireKeep(def: Pick<JobDefinition, 'misfire' | 'maxCatchUp'>): number {
  return def.misfire === 'catch-up' ? def.maxCatchUp : def.misfire === 'fire-once' ? 1 : 0;
}
