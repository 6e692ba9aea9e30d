import { WORKER_PARTITIONS, type FaultEvent, type RunEvent, type StoreWrite } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { buildRunIntervals, fireId, type RunEnding, type RunInterval } from './build-run-intervals.js';
import { checkStoreWrites } from './check-store-writes.js';
import { compareTokens } from './compare-tokens.js';
import { formatInstant } from './format-instant.js';

export interface OverlapCounts {
  /** Runs (starts) in the run log. */
  runs: number;
  /** Runs by how their interval ended (see `RunEnding`). */
  endings: Record<RunEnding, number>;
  /** Terminal run events with no matching start. */
  orphanEnds: number;
  /** Pairs of runs of one item that overlapped in time. */
  overlappingPairs: number;
  /** Overlapping pairs excused by fencing: the older run's worker was frozen, its late writes refused. */
  excusedPairs: number;
  /** Store writes attempted. */
  writes: number;
  /** Writes the store refused: stale writes fencing kept out. Counted, not a violation. */
  staleWritesRefused: number;
  /** Writes the store accepted although a larger token had written the key before (violations). */
  staleWritesAccepted: number;
  /** Overlapping pairs not excused plus stale writes accepted. */
  violations: number;
  /**
   * Runs involved in a violation (both runs of an unexcused overlap, the writer of an accepted
   * stale write): the report shows this out of `runs`.
   */
  violatingRuns: number;
}

export type OverlapResult = CheckResult<OverlapCounts>;

/**
 * How long the run of a worker woken from a freeze longer than its session may go on after
 * SIGCONT: its timers fire in arrival order, so a handler's own code runs for a moment before the
 * lease check aborts it (seen in a chaos run: 12 ms). A run that goes on longer was not stopped
 * by its lease: a violation, fenced or not.
 */
export const WAKE_GRACE_MS = 1000;

/**
 * "No two runs of the same item overlap, except a run of a worker that could not act on its lost
 * lease because it was frozen — and none of that run's writes after the newer run began got into
 * the fenced store."
 *
 * Runs become intervals (`buildRunIntervals`). Two intervals of one job and item that overlap in
 * time (touching ends do not) are a violation unless the older one (smaller token; the earlier
 * start on equal tokens) belongs to a pid frozen by a `sigstop` fault (always longer than the
 * session timeout) that began before the newer run started and did not end before the older run
 * began, and
 * - the older run ended at most WAKE_GRACE_MS after SIGCONT (woken, its lease stops it at once), and
 * - none of its store writes (same key, pid, fire and attempt) at or after the newer run's start
 *   was accepted: its late writes are excused only when fenced.
 * Nothing else is excused: a worker that keeps running while cut off from ZooKeeper (a partition
 * fault) must have stopped its runs before another worker could start them. Also violations:
 * stale writes the store accepted (`checkStoreWrites`). Pure: no I/O, no clock.
 */
export function checkOverlaps(
  runs: readonly RunEvent[],
  writes: readonly StoreWrite[],
  faults: readonly FaultEvent[],
): OverlapResult {
  const { intervals, orphanEnds } = buildRunIntervals(runs, writes, faults);
  const endings: Record<RunEnding, number> = { end: 0, aborted: 0, failed: 0, killed: 0, terminated: 0, open: 0 };
  for (const r of intervals) endings[r.ending]++;

  const writesByRun = new Map<string, StoreWrite[]>();
  for (const w of writes) {
    const key = writeKey(w.key, w.fire, w.attempt, w.pid);
    const list = writesByRun.get(key);
    if (list === undefined) writesByRun.set(key, [w]);
    else list.push(w);
  }
  const stops = faults.filter((f) => f.fault === 'sigstop' && f.pid !== undefined);
  const cuts = faults.filter((f) => WORKER_PARTITIONS.includes(f.fault) && f.pid !== undefined);

  const byItem = new Map<string, RunInterval[]>();
  for (const r of intervals) {
    const key = JSON.stringify([r.job, r.item]);
    const list = byItem.get(key);
    if (list === undefined) byItem.set(key, [r]);
    else list.push(r);
  }

  let overlappingPairs = 0;
  let excusedPairs = 0;
  const violations: Violation[] = [];
  const violating = new Set<string>();
  for (const list of byItem.values()) {
    // `intervals` is in start order, so each list is too.
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      for (let j = i + 1; j < list.length; j++) {
        const b = list[j]!;
        if (b.start >= a.end) break;
        if (a.start >= b.end) continue;
        overlappingPairs++;
        const aOlder = compareTokens(a.token, b.token) < 0 || (compareTokens(a.token, b.token) === 0 && a.start <= b.start);
        const older = aOlder ? a : b;
        const newer = aOlder ? b : a;
        // A frozen worker cannot act on its lost lease: its run is excused while it is frozen and
        // for a moment after it wakes, as long as the store refused what it wrote meanwhile.
        const frozen = stops.find((f) => f.pid === older.pid && f.end >= older.start && f.start <= newer.start);
        const late = (writesByRun.get(runWriteKey(older)) ?? [])
          .filter((w) => w.accepted && w.at >= newer.start);
        const stoppedOnWake = frozen !== undefined && older.end <= frozen.end + WAKE_GRACE_MS;
        if (frozen !== undefined && stoppedOnWake && late.length === 0) {
          excusedPairs++;
          continue;
        }
        violating.add(runWriteKey(older)).add(runWriteKey(newer));
        const overlapMs = Math.min(a.end, b.end) - Math.max(a.start, b.start);
        const cut = cuts.find((f) => f.pid === older.pid && f.start <= newer.start && f.end >= older.start);
        let why: string;
        if (frozen === undefined) {
          why = cut === undefined
            ? `pid ${older.pid} was not frozen before the newer run started, so it still held its lease`
            : `pid ${older.pid} kept running while cut off from ZooKeeper (${cut.fault} ${formatInstant(cut.start)}–${formatInstant(cut.end)}): ` +
              'its lease must stop its runs before another worker can start them';
        } else {
          const problems = [
            ...(stoppedOnWake ? [] : [`its run went on until ${older.end - frozen.end} ms after SIGCONT (more than ${WAKE_GRACE_MS} ms)`]),
            ...(late.length === 0 ? [] : [`${late.length} of its writes after the newer run started were accepted (first at ${formatInstant(late[0]!.at)}, token ${late[0]!.token})`]),
          ];
          why = `pid ${older.pid} was frozen (SIGSTOP ${formatInstant(frozen.start)}–${formatInstant(frozen.end)}), but ${problems.join(', and ')}`;
        }
        violations.push({
          check: 'overlap',
          at: newer.start,
          job: older.job,
          item: older.item,
          pids: [older.pid, newer.pid],
          detail: `${older.job}#${older.item}: ${describe(older)} overlaps ${describe(newer)} for ${overlapMs} ms; ${why}`,
        });
      }
    }
  }

  const store = checkStoreWrites(writes);
  violations.push(...store.violations);
  for (const w of store.stale) violating.add(writeKey(w.key, w.fire, w.attempt, w.pid));
  violations.sort((x, y) => (x.at ?? 0) - (y.at ?? 0));
  return {
    violations,
    counts: {
      runs: intervals.length,
      endings,
      orphanEnds: orphanEnds.length,
      overlappingPairs,
      excusedPairs,
      writes: writes.length,
      staleWritesRefused: store.counts.refused,
      staleWritesAccepted: store.counts.acceptedStale,
      violations: violations.length,
      violatingRuns: violating.size,
    },
  };
}

function writeKey(key: string, fire: string, attempt: number, pid: number): string {
  return JSON.stringify([key, fireId(fire), attempt, pid]);
}

function runWriteKey(r: RunInterval): string {
  return writeKey(`${r.job}#${r.item}`, r.fire, r.attempt, r.pid);
}

function describe(r: RunInterval): string {
  return `the run of pid ${r.pid} (${r.worker}, fire ${r.fire}, attempt ${r.attempt}, token ${r.token}, ` +
    `${formatInstant(r.start)}–${formatInstant(r.end)} ${r.ending})`;
}
