import type { ChaosJob, RecordedNote, RunEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { CronSchedule } from '../../src/cron/cron-schedule.js';
import { formatInstant } from './format-instant.js';

/** How far past the window a note may be written for a gap that reaches its end. */
export const COVERAGE_GRACE_MS = 60_000;

/** The scheduled fires checked: `from <= fire <= to`, ms since the epoch. */
export interface CoverageWindow {
  from: number;
  to: number;
}

/** A maximal run of consecutive scheduled fires of one item that no run started. */
export interface FireGap {
  job: string;
  item: number;
  /** First and last fire of the gap, ms since the epoch. */
  first: number;
  last: number;
  /** Scheduled fires in the gap. */
  size: number;
  /** Sum of the counts of the notes that may account for the gap. */
  noted: number;
  /** Notes with `latest` in `[first, bound]` count for the gap: the next run's fire, or `to` + 60 s. */
  bound: number;
  /** `noted >= size`. */
  excused: boolean;
}

export interface CoverageCounts {
  scheduledFires: number;
  /** Scheduled fires some run started (any attempt, any process). */
  ran: number;
  /** Fires in gaps that missed/skipped notes account for. */
  recorded: number;
  /** Fires in gaps no note accounts for (violations). */
  unexcusedFires: number;
  gaps: number;
  unexcusedGaps: number;
}

export interface CoverageResult extends CheckResult<CoverageCounts> {
  /** Every gap, excused or not, by job, item and time. */
  gaps: FireGap[];
}

/**
 * "Every scheduled (job, item, fire) ran or was recorded as missed and handled by its policy."
 *
 * For each job (cron in UTC) and item `0..shards-1`, the scheduled fires in the window are covered
 * when a run `start` names that job, item and fire. Uncovered fires form gaps (maximal runs of
 * consecutive scheduled fires); a gap is excused when the notes of that item (`missed` and
 * `skipped` alike) whose `latest` lies in `[first fire of the gap, fire of the next run after it]`
 * (`to` + 60 s when no run follows) add up to at least its size: one note may count several fires,
 * so totals are compared per gap. Each unexcused gap is one violation. Pure: no I/O, no clock.
 */
export function checkCoverage(
  runs: readonly RunEvent[],
  notes: readonly RecordedNote[],
  jobs: readonly ChaosJob[],
  window: CoverageWindow,
): CoverageResult {
  const ranFires = new Map<string, Set<number>>();
  for (const r of runs) {
    if (r.event !== 'start') continue;
    const fire = Date.parse(r.fire);
    if (!Number.isFinite(fire)) continue;
    const key = itemKey(r.job, r.item);
    const set = ranFires.get(key);
    if (set === undefined) ranFires.set(key, new Set([fire]));
    else set.add(fire);
  }
  const notesByItem = new Map<string, { latest: number; count: number }[]>();
  for (const n of notes) {
    const key = itemKey(n.job, n.item);
    const list = notesByItem.get(key) ?? [];
    list.push({ latest: Date.parse(n.latest), count: n.count });
    notesByItem.set(key, list);
  }

  const counts: CoverageCounts = { scheduledFires: 0, ran: 0, recorded: 0, unexcusedFires: 0, gaps: 0, unexcusedGaps: 0 };
  const gaps: FireGap[] = [];
  const violations: Violation[] = [];
  for (const job of jobs) {
    const fires = scheduledFires(job.cron, window);
    for (let item = 0; item < job.shards; item++) {
      const key = itemKey(job.name, item);
      const ran = ranFires.get(key) ?? new Set<number>();
      const ranSorted = [...ran].sort((a, b) => a - b);
      const itemNotes = notesByItem.get(key) ?? [];
      counts.scheduledFires += fires.length;
      let i = 0;
      while (i < fires.length) {
        if (ran.has(fires[i]!)) {
          counts.ran++;
          i++;
          continue;
        }
        const start = i;
        while (i < fires.length && !ran.has(fires[i]!)) i++;
        const first = fires[start]!;
        const last = fires[i - 1]!;
        const size = i - start;
        const bound = ranSorted.find((f) => f > last) ?? window.to + COVERAGE_GRACE_MS;
        const noted = itemNotes.filter((n) => n.latest >= first && n.latest <= bound).reduce((sum, n) => sum + n.count, 0);
        const gap: FireGap = { job: job.name, item, first, last, size, noted, bound, excused: noted >= size };
        gaps.push(gap);
        counts.gaps++;
        if (gap.excused) {
          counts.recorded += size;
          continue;
        }
        counts.unexcusedFires += size;
        counts.unexcusedGaps++;
        violations.push({
          check: 'coverage',
          at: first,
          job: job.name,
          item,
          detail:
            `${job.name}#${item}: ${size} scheduled fire${size === 1 ? '' : 's'} from ${formatInstant(first)} to ${formatInstant(last)} ` +
            `never started, and missed/skipped notes with latest in [${formatInstant(first)}, ${formatInstant(bound)}] count only ${noted}`,
        });
      }
    }
  }
  violations.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return { violations, counts, gaps };
}

/** The job's fire times with `from <= fire <= to`, ascending (cron in UTC). */
function scheduledFires(cron: string, window: CoverageWindow): number[] {
  const schedule = CronSchedule.parse(cron, 'UTC');
  const out: number[] = [];
  // next() is strictly after its argument; fire times are whole seconds.
  for (let t = schedule.next(new Date(window.from - 1)); t.getTime() <= window.to; t = schedule.next(t)) {
    out.push(t.getTime());
  }
  return out;
}

function itemKey(job: string, item: number): string {
  return JSON.stringify([job, item]);
}
