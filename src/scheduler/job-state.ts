import type { JobDefinition } from '../config/job-definition.js';
import type { FireRequest } from '../executor/executor.js';
import type { FireNote } from '../executor/fire-note.js';
import type { CronSchedule } from '../cron/cron-schedule.js';

/** What the scheduler keeps of one job it owns items of. */
export interface JobState {
  def: JobDefinition;
  schedule: CronSchedule;
  owned: Set<number>;
  /** Owned items an operator disabled: they do not fire. */
  disabled: Set<number>;
  /** ms since epoch of the next regular fire. */
  nextFire: number;
  /** The schedule's instant before `nextFire` (undefined when there is none): the claim of its fires. */
  prevFire: number | undefined;
  /** Missed fires to record with the item's next run. */
  missed: Map<number, FireNote>;
  /** Fires the overlap policy dropped (or another run held the item), to record with the item's next run. */
  skipped: Map<number, FireNote>;
  /**
   * Per item, the fire instants (ms, ascending) handed to the executor whose fate is not settled
   * yet: begun, taken on elsewhere, recorded, or covered by a takeover. For the stall check.
   */
  unsettled: Map<number, number[]>;
  /** Manual triggers an item could not take on yet (busy elsewhere, or a takeover comes first). */
  pendingTriggers: Map<number, FireRequest>;
  /**
   * Scheduled fire instants (ms, ascending) not handed to the executor because the item's takeover
   * was under way: that round's plan covers them, or they are handed over when it ends.
   */
  held: Map<number, number[]>;
  /** The generation of the job's assignment the owned items were last set from. */
  generation?: number;
  /** Per owned item, its ownership epoch: one more each time it is gained or kept across a skipped generation. */
  epochs: Map<number, number>;
}

/** Notes that the fate of the item's fire at `fireMs` (or, `upTo`, of all its fires to then) is settled. */
export function settleFires(s: JobState | undefined, item: number, fireMs: number, upTo = false): void {
  const open = s?.unsettled.get(item);
  if (!s || !open || open.length === 0) return;
  if (!upTo) {
    // One instant, usually the oldest (the fire just begun): removed in place, as `tick` adds
    // them, in one pass that makes nothing (no new array per run, nor `splice`'s array of the
    // removed elements).
    let kept = 0;
    for (let i = 0; i < open.length; i++) if (open[i] !== fireMs) open[kept++] = open[i]!;
    open.length = kept;
    return;
  }
  const left = open.filter((t) => t > fireMs);
  if (left.length !== open.length) s.unsettled.set(item, left);
}

/** An item as `job#item` (keys of the scheduler's per-item sets, and of the stalled list). */
export function keyOf(job: string, item: number): string {
  return `${job}#${item}`;
}
