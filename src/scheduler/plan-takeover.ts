import type { JobDefinition } from '../config/job-definition.js';
import type { ProgressRecord } from '../model/progress-record.js';

/** The part of a cron schedule the planner needs. */
export interface FireTimes {
  /** First fire time strictly after `after`. */
  next(after: Date): Date;
}

export interface TakeoverInput {
  def: Pick<JobDefinition, 'misfire' | 'maxCatchUp' | 'failover'>;
  schedule: FireTimes;
  progress: ProgressRecord;
  /** Someone (the previous owner, or a deposed one) still holds the item's running marker. */
  markerHeld: boolean;
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
  /** Wait until the marker goes, then plan again. */
  waitForMarker: boolean;
  /** The interrupted fire to run again (failover), with its next attempt number. */
  rerun?: { fireTime: Date; attempt: number };
  /** Missed fires to run now, oldest first. */
  fires: Date[];
  /** Missed fires not run (by policy or bound), to record. */
  missed?: { count: number; latest: Date };
}

/** Most fire times counted when measuring a gap; beyond it the count reads as "at least". */
const COUNT_LIMIT = 100_000;

/**
 * Decides what a new owner of an item does before it just follows the schedule: run again the
 * fire the previous owner was in the middle of (`failover`), and handle the fires nobody took on
 * since the last one recorded, by the job's `misfire` policy. Pure: no I/O, no clock.
 */
export function planTakeover(input: TakeoverInput): TakeoverPlan {
  const { def, schedule, progress, markerHeld, until } = input;
  if (markerHeld) return { waitForMarker: true, fires: [] };
  const plan: TakeoverPlan = { waitForMarker: false, fires: [] };
  const inFlight = progress.inFlight;
  if (inFlight && def.failover) {
    plan.rerun = { fireTime: new Date(inFlight.fireTime), attempt: inFlight.attempt + 1 };
  }
  const last = progress.lastScheduled ?? inFlight?.fireTime ?? input.bornAt?.toISOString();
  if (last === undefined) return plan; // nothing to account for before the regular schedule
  const missedTimes: Date[] = [];
  let notRun = 0;
  let latestNotRun: Date | undefined;
  if (inFlight && !def.failover) {
    notRun++; // the interrupted fire is not run again: record it
    latestNotRun = new Date(inFlight.fireTime);
  }
  const keep = def.misfire === 'catch-up' ? def.maxCatchUp : def.misfire === 'fire-once' ? 1 : 0;
  let seen = 0;
  for (let t = schedule.next(new Date(last)); t.getTime() <= until.getTime() && seen < COUNT_LIMIT; t = schedule.next(t)) {
    seen++;
    missedTimes.push(t);
    if (missedTimes.length > keep) {
      latestNotRun = missedTimes.shift();
      notRun++;
    }
  }
  plan.fires = missedTimes;
  if (notRun > 0 && latestNotRun) plan.missed = { count: notRun, latest: latestNotRun };
  return plan;
}
