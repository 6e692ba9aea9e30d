import type { ChaosJob, RecordedNote, RunEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { atOrBefore, scheduledFires, type CoverageWindow } from './schedule-instants.js';
import { formatInstant } from './format-instant.js';

export interface RecordedOnceCounts {
  /** Scheduled fires in the window that a run or a logged note stands for. */
  accounted: number;
  /** Of those, fires two of them stand for (violations). */
  twice: number;
}

/**
 * "Every scheduled fire is recorded once" (the run history holds one row per fire): no scheduled
 * instant of an item in the window is stood for by two missed/skipped notes the workers logged as
 * written, nor by such a note and a run start (any attempt: a fire run again after its owner was
 * lost is one fire). A note stands for the `count` instants of the job's schedule ending at the
 * latest one at or before its `latest`, as in `checkCoverage`. Only logged notes count: each log
 * line is one write ZooKeeper acknowledged, where a history entry may be the same write seen again.
 * One violation per item and pair of sources, at the earliest fire they share. Pure: no I/O, no clock.
 */
export function checkRecordedOnce(runs: readonly RunEvent[], notes: readonly RecordedNote[], jobs: readonly ChaosJob[], window: CoverageWindow): CheckResult<RecordedOnceCounts> {
  const counts: RecordedOnceCounts = { accounted: 0, twice: 0 };
  const violations: Violation[] = [];
  for (const job of jobs) {
    for (let item = 0; item < job.shards; item++) {
      const itemNotes = notes.filter((n) => n.job === job.name && n.item === item);
      const upTo = itemNotes.reduce((t, n) => Math.max(t, Date.parse(n.latest) || 0), window.to);
      const instants = scheduledFires(job.cron, { from: window.from, to: upTo });
      /** Instant → what stands for it first. */
      const by = new Map<number, string>();
      /** Per pair of what stands for the same fires: those fires. */
      const pairs = new Map<string, { first: string; then: string; fires: number[] }>();
      const stand = (t: number, what: string): void => {
        if (t > window.to) return;
        const first = by.get(t);
        if (first === undefined) {
          by.set(t, what);
          counts.accounted++;
          return;
        }
        counts.twice++;
        const key = `${first}|${what}`;
        const pair = pairs.get(key);
        if (pair) pair.fires.push(t);
        else pairs.set(key, { first, then: what, fires: [t] });
      };
      const started = new Set<number>();
      for (const r of runs) {
        if (r.event !== 'start' || r.job !== job.name || r.item !== item) continue;
        const fire = Date.parse(r.fire);
        if (!Number.isFinite(fire) || started.has(fire) || !instants.includes(fire)) continue;
        started.add(fire);
        stand(fire, `a run started by ${r.worker} (pid ${r.pid}) at ${formatInstant(r.at)}`);
      }
      for (const n of itemNotes) {
        const what = `a note of ${n.count} ${n.outcome} fire(s) up to ${n.latest} logged at ${formatInstant(n.at)}`;
        let last = atOrBefore(instants, Date.parse(n.latest));
        for (let k = 0; k < n.count && last >= 0; k++, last--) stand(instants[last]!, what);
      }
      for (const { first, then, fires } of pairs.values()) {
        const from = Math.min(...fires);
        const to = Math.max(...fires);
        const span = fires.length === 1 ? `fire ${formatInstant(from)}` : `${fires.length} fires from ${formatInstant(from)} to ${formatInstant(to)}`;
        violations.push({ check: 'recorded-once', at: from, job: job.name, item, detail: `${job.name}#${item}: ${span} accounted for twice: ${first}; and ${then}` });
      }
    }
  }
  violations.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return { violations, counts };
}
