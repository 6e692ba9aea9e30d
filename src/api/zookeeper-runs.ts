import { fireIdOf } from '../executor/job-context.js';
import { DEFAULT_RUN_LIMIT, type RunFilter, type RunRow } from '../history/run-query.js';
import type { FleetSnapshot } from './fleet-snapshot.js';
import { definedItems } from './fleet-views.js';

/**
 * The runs ZooKeeper keeps (`items/<i>/history`, the last few per item), filtered like the SQL
 * query of `zkctl runs`, newest first: `zkctl runs` without PostgreSQL and the console. A job whose
 * definition does not decode has no runs to show. Pure.
 */
export function zooKeeperRuns(snapshot: FleetSnapshot, filter: RunFilter): RunRow[] {
  return selectRuns(zooKeeperRunRows(snapshot, filter), filter);
}

/**
 * Every run the snapshot's item histories hold (of `scope.job` and `scope.item` only, when given),
 * newest first: what {@link selectRuns} filters. Pure.
 */
export function zooKeeperRunRows(snapshot: FleetSnapshot, scope: { job?: string; item?: number } = {}): RunRow[] {
  const rows: RunRow[] = [];
  for (const job of snapshot.jobs) {
    if ((scope.job !== undefined && job.name !== scope.job) || job.definition === undefined) continue;
    for (const item of definedItems(job)) {
      if (scope.item !== undefined && item.item !== scope.item) continue;
      for (const h of item.progress.recent ?? []) {
        const fireTime = new Date(h.fireTime);
        const fires = h.attempt === 0 ? Number(/^(\d+) fire/.exec(h.error ?? '')?.[1] ?? 1) : 1;
        rows.push({
          job: job.name, item: item.item, fireTime: h.fireTime, fireId: fireIdOf(job.name, fireTime, item.item), attempt: h.attempt, worker: h.worker,
          fencingToken: null, reason: 'unknown', startedAt: h.startedAt ?? null, endedAt: h.at, durationMs: h.durationMs ?? null,
          outcome: h.outcome, error: h.error ?? null, member: null, stagesDone: [], fires,
        });
      }
    }
  }
  return rows.sort((a, b) => (a.fireTime < b.fireTime ? 1 : a.fireTime > b.fireTime ? -1 : 0));
}

/** The rows of `newestFirst` (as {@link zooKeeperRunRows} gives them) that `filter` selects, up to its limit. Pure. */
export function selectRuns(newestFirst: readonly RunRow[], filter: RunFilter): RunRow[] {
  const limit = filter.limit ?? DEFAULT_RUN_LIMIT;
  const since = filter.since?.getTime();
  const until = filter.until?.getTime();
  const out: RunRow[] = [];
  for (const r of newestFirst) {
    if (out.length >= limit) break;
    if ((filter.job !== undefined && r.job !== filter.job) || (filter.item !== undefined && r.item !== filter.item) || (filter.outcome && r.outcome !== filter.outcome)) continue;
    if (since !== undefined || until !== undefined) {
      const t = Date.parse(r.fireTime);
      if ((since !== undefined && t < since) || (until !== undefined && t >= until)) continue;
    }
    out.push(r);
  }
  return out;
}
