import type { ChaosJob, HistoryNote, RecordedNote, RunEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { atOrBefore, scheduledFires, type CoverageWindow } from './schedule-instants.js';
import { formatInstant } from './format-instant.js';

export type { CoverageWindow } from './schedule-instants.js';

/** How many of a gap's fires no note stands for a violation names (all are counted). */
const LISTED_FIRES = 5;


/** A maximal run of consecutive scheduled fires of one item that no run started. */
export interface FireGap {
  job: string;
  item: number;
  /** First and last fire of the gap, ms since the epoch. */
  first: number;
  last: number;
  /** Scheduled fires in the gap. */
  size: number;
  /** Fires of the gap that some missed/skipped note stands for. */
  noted: number;
  /** Fires of the gap that only notes read from ZooKeeper stand for (no worker logged them). */
  onlyInZk: number;
  /** Fires of the gap no note stands for, ms, ascending. */
  unnoted: number[];
  /** `noted === size`. */
  excused: boolean;
}

export interface CoverageCounts {
  scheduledFires: number;
  /** Scheduled fires some run started (any attempt, any process). */
  ran: number;
  /** Fires that did not run and that missed/skipped notes stand for. */
  recorded: number;
  /** Of `recorded`, those only a note read from ZooKeeper stands for (its writer logged nothing). */
  recordedOnlyInZk: number;
  /** Fires that did not run and that no note stands for (violations). */
  unexcusedFires: number;
  gaps: number;
  /** Gaps with at least one fire no note stands for (one violation each). */
  unexcusedGaps: number;
}

export interface CoverageResult extends CheckResult<CoverageCounts> {
  /** Every gap, excused or not, by job, item and time. */
  gaps: FireGap[];
}

/** Where the checker got a note from. */
type NoteSource = 'log' | 'zk';

/**
 * "Every scheduled (job, item, fire) ran or was recorded as missed and handled by its policy."
 *
 * For each job (cron in UTC) and item `0..shards-1`, a scheduled fire in the window is covered when
 * a run `start` names that job, item and fire, or when a missed/skipped note of that item stands for
 * it. A note (`count` fires, latest `latest`; in a history entry: "N fire(s) missed", `fireTime`)
 * stands for the `count` consecutive instants of the job's schedule ending at `latest` (the latest
 * instant at or before it): notes are merged only when consecutive. Notes come from two sources,
 * and a fire counts once whichever stands for it:
 * - `notes`: what the workers logged as recorded (`recorded fires not run`, logged once ZooKeeper
 *   answered the write);
 * - `historyNotes`: the missed/skipped entries read from the items' history nodes in ZooKeeper,
 *   also those whose writer never heard ZooKeeper's answer and so logged nothing.
 * Nothing else excuses a fire: not a note a worker meant to write, not the time of a note.
 * Uncovered fires form gaps (maximal runs of consecutive scheduled fires no run started, reported
 * with how many of their fires notes stand for); each gap with a fire no note stands for is one
 * violation. Pure: no I/O, no clock.
 */
export function checkCoverage(
  runs: readonly RunEvent[],
  notes: readonly RecordedNote[],
  jobs: readonly ChaosJob[],
  window: CoverageWindow,
  historyNotes: readonly HistoryNote[],
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
  const notesByItem = new Map<string, { latest: number; count: number; source: NoteSource }[]>();
  const addNote = (job: string, item: number, note: { latest: number; count: number; source: NoteSource }): void => {
    if (!Number.isFinite(note.latest) || !Number.isSafeInteger(note.count) || note.count < 1) return;
    const key = itemKey(job, item);
    const list = notesByItem.get(key) ?? [];
    list.push(note);
    notesByItem.set(key, list);
  };
  for (const n of notes) addNote(n.job, n.item, { latest: Date.parse(n.latest), count: n.count, source: 'log' });
  for (const h of historyNotes) addNote(h.job, h.item, { latest: Date.parse(h.fireTime), count: noteCount(h.error), source: 'zk' });

  const counts: CoverageCounts = { scheduledFires: 0, ran: 0, recorded: 0, recordedOnlyInZk: 0, unexcusedFires: 0, gaps: 0, unexcusedGaps: 0 };
  const gaps: FireGap[] = [];
  const violations: Violation[] = [];
  for (const job of jobs) {
    for (let item = 0; item < job.shards; item++) {
      const key = itemKey(job.name, item);
      const ran = ranFires.get(key) ?? new Set<number>();
      const itemNotes = notesByItem.get(key) ?? [];
      // The schedule's instants from the window's start to the latest note (a note counts back
      // from its latest fire, which may lie past the window).
      const upTo = itemNotes.reduce((t, n) => Math.max(t, n.latest), window.to);
      const instants = scheduledFires(job.cron, { from: window.from, to: upTo });
      const inWindow = instants.filter((t) => t <= window.to);
      const noted = notedFires(instants, itemNotes);
      counts.scheduledFires += inWindow.length;
      let i = 0;
      while (i < inWindow.length) {
        if (ran.has(inWindow[i]!)) {
          counts.ran++;
          i++;
          continue;
        }
        const start = i;
        while (i < inWindow.length && !ran.has(inWindow[i]!)) i++;
        const fires = inWindow.slice(start, i);
        const unnoted = fires.filter((f) => !noted.has(f));
        const onlyInZk = fires.filter((f) => noted.get(f) === 'zk').length;
        const gap: FireGap = {
          job: job.name, item, first: fires[0]!, last: fires[fires.length - 1]!, size: fires.length,
          noted: fires.length - unnoted.length, onlyInZk, unnoted, excused: unnoted.length === 0,
        };
        gaps.push(gap);
        counts.gaps++;
        counts.recorded += gap.noted;
        counts.recordedOnlyInZk += onlyInZk;
        if (gap.excused) continue;
        counts.unexcusedFires += unnoted.length;
        counts.unexcusedGaps++;
        const listed = unnoted.slice(0, LISTED_FIRES).map((f) => formatInstant(f)).join(', ') + (unnoted.length > LISTED_FIRES ? ', …' : '');
        violations.push({
          check: 'coverage',
          at: unnoted[0]!,
          job: job.name,
          item,
          detail:
            `${job.name}#${item}: ${gap.size} scheduled fire${gap.size === 1 ? '' : 's'} from ${formatInstant(gap.first)} to ${formatInstant(gap.last)} ` +
            `never started; missed/skipped notes (logged or in ZooKeeper's history) stand for ${gap.noted} of them, none for ${listed}`,
        });
      }
    }
  }
  violations.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return { violations, counts, gaps };
}

/**
 * The instants the notes stand for, each with `log` when a logged note stands for it (else `zk`):
 * a note stands for the `count` instants of `instants` (ascending) ending at the latest one at or
 * before its `latest`; instants before the first of `instants` are left out.
 */
function notedFires(instants: readonly number[], notes: readonly { latest: number; count: number; source: NoteSource }[]): Map<number, NoteSource> {
  const out = new Map<number, NoteSource>();
  for (const n of notes) {
    let last = atOrBefore(instants, n.latest);
    for (let k = 0; k < n.count && last >= 0; k++, last--) {
      const t = instants[last]!;
      if (out.get(t) !== 'log') out.set(t, n.source);
    }
  }
  return out;
}

/** How many fires a history entry stands for: the N of "N fire(s) missed/skipped…", else 1 (the entry's own fire). */
function noteCount(error: string | undefined): number {
  const m = /^(\d+) fire/.exec(error ?? '');
  return m ? Number(m[1]) : 1;
}

function itemKey(job: string, item: number): string {
  return JSON.stringify([job, item]);
}
