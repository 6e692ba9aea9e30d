import type pg from 'pg';
import type { RunOutcome } from '../model/progress-record.js';

/** What `zkctl runs` (and the console) ask for. Every field narrows; none means all. */
export interface RunFilter {
  job?: string;
  item?: number;
  outcome?: RunOutcome;
  /** Fire time at or after. */
  since?: Date;
  /** Fire time before. */
  until?: Date;
  /** @default 100 */
  limit?: number;
}

/** One row of `zkctl runs --json`. */
export interface RunRow {
  job: string;
  item: number;
  fireTime: string;
  fireId: string;
  attempt: number;
  worker: string;
  fencingToken: string | null;
  reason: string;
  startedAt: string | null;
  endedAt: string;
  durationMs: number | null;
  outcome: RunOutcome;
  error: string | null;
  member: string | null;
  stagesDone: string[];
  /** How many fires the row stands for (a missed or skipped note: more than 1). */
  fires: number;
}

export const DEFAULT_RUN_LIMIT = 100;

/**
 * The SQL of a run query, newest fire first. Each filter combination is served by an index:
 * job (+ item) + time, outcome + time, or the primary key's time order when nothing narrows.
 */
export function runQuerySql(filter: RunFilter): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.job !== undefined) add('job = ?', filter.job);
  if (filter.item !== undefined) add('item = ?', filter.item);
  if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
  if (filter.since !== undefined) add('fire_time >= ?', filter.since);
  if (filter.until !== undefined) add('fire_time < ?', filter.until);
  values.push(filter.limit ?? DEFAULT_RUN_LIMIT);
  const text =
    `SELECT job, item, fire_time, fire_id, attempt, worker, fencing_token::text AS fencing_token, reason, started_at, ended_at, duration_ms, outcome, error, member, stages_done, fires
     FROM zkshard_runs${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY fire_time DESC LIMIT $${values.length}`;
  return { text, values };
}

/** Runs matching `filter`, newest fire first. */
export async function queryRuns(db: pg.Pool | pg.PoolClient, filter: RunFilter): Promise<RunRow[]> {
  const { rows } = await db.query(runQuerySql(filter));
  return rows.map((r: Record<string, unknown>) => ({
    job: r.job as string,
    item: r.item as number,
    fireTime: (r.fire_time as Date).toISOString(),
    fireId: r.fire_id as string,
    attempt: r.attempt as number,
    worker: r.worker as string,
    fencingToken: (r.fencing_token as string | null) ?? null,
    reason: r.reason as string,
    startedAt: r.started_at ? (r.started_at as Date).toISOString() : null,
    endedAt: (r.ended_at as Date).toISOString(),
    durationMs: (r.duration_ms as number | null) ?? null,
    outcome: r.outcome as RunOutcome,
    error: (r.error as string | null) ?? null,
    member: (r.member as string | null) ?? null,
    stagesDone: (r.stages_done as string[] | null) ?? [],
    fires: r.fires as number,
  }));
}
