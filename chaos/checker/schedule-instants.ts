import { CronSchedule } from '../../src/cron/cron-schedule.js';

/** The scheduled fires checked: `from <= fire <= to`, ms since the epoch. */
export interface CoverageWindow {
  from: number;
  to: number;
}

/** The job's fire times with `from <= fire <= to`, ascending (cron in UTC). */
export function scheduledFires(cron: string, window: CoverageWindow): number[] {
  const schedule = CronSchedule.parse(cron, 'UTC');
  const out: number[] = [];
  // next() is strictly after its argument; fire times are whole seconds.
  for (let t = schedule.next(new Date(window.from - 1)); t.getTime() <= window.to; t = schedule.next(t)) {
    out.push(t.getTime());
  }
  return out;
}

/** Index of the last element of `sorted` that is `<= t`, or -1. */
export function atOrBefore(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
