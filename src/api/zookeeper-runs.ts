import { fireIdOf } from '../executor/job-context.js';
import { DEFAULT_RUN_LIMIT, type RunFilter, type RunRow } from '../history/run-query.js';
import type { FleetSnapshot } from './fleet-snapshot.js';
import { jobView } from './fleet-views.js';

/**
 * The runs ZooKeeper keeps (`items/<i>/history`, the last few per item), filtered like the SQL
 * query of `zkctl runs`, newest first: `zkctl runs` without PostgreSQL and the console. A job whose
 * definition does not decode has no runs to show. Pure.
 */
export function zooKeeperRuns(snapshot: FleetSnapshot, filter: RunFilter): RunRow[] {
  const rows: RunRow[] = [];
  for (const job of snapshot.jobs) {
    if ((filter.job !== undefined && job.name !== filter.job) || job.definition === undefined) continue;
    const view = jobView(snapshot, job.name);
    for (const item of view.items) {
      if (filter.item !== undefined && item.item !== filter.item) continue;
      for (const h of item.history) {
        const fireTime = new Date(h.fireTime);
        if ((filter.outcome && h.outcome !== filter.outcome) || (filter.since && fireTime < filter.since) || (filter.until && fireTime >= filter.until)) continue;
        const fires = h.attempt === 0 ? Number(/^(\d+) fire/.exec(h.error ?? '')?.[1] ?? 1) : 1;
        rows.push({
          job: job.name, item: item.item, fireTime: h.fireTime, fireId: fireIdOf(job.name, fireTime, item.item), attempt: h.attempt, worker: h.worker,
          fencingToken: null, reason: 'unknown', startedAt: h.startedAt ?? null, endedAt: h.at, durationMs: h.durationMs ?? null,
          outcome: h.outcome, error: h.error ?? null, member: null, stagesDone: [], fires,
        });
      }
    }
  }
  return rows.sort((a, b) => (a.fireTime < b.fireTime ? 1 : a.fireTime > b.fireTime ? -1 : 0)).slice(0, filter.limit ?? DEFAULT_RUN_LIMIT);
}
