import type pg from 'pg';
import { dayOf, listPartitions } from './run-partitions.js';

const DAY_MS = 86_400_000;
/** Advisory lock of a retention pass: one worker at a time does it, the others skip. */
export const RETENTION_LOCK_KEY = 0x7a6b_0002;

export interface RetentionResult {
  /** Partitions dropped (whole days older than the retention). */
  dropped: string[];
  /** Rows deleted by the per-job cap, by job. */
  capped: Record<string, number>;
  /** Another worker was doing it: nothing done. */
  skipped: boolean;
}

/**
 * One retention pass: drops the day partitions that ended more than `retentionDays` ago (whole
 * tables: no row-by-row delete, no bloat), then deletes the oldest rows of every job holding more
 * than `maxRowsPerJob` (a job firing every second is bounded too; each job's cut point is found
 * on the job+time index). Under an advisory lock: concurrent passes skip.
 */
export async function applyRetention(pool: pg.Pool, opts: { retentionDays: number; maxRowsPerJob: number; now: number }): Promise<RetentionResult> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RETENTION_LOCK_KEY]);
    if (!rows[0]!.locked) return { dropped: [], capped: {}, skipped: true };
    try {
      // A partition is dropped once its whole day is older than the retention.
      const cutoff = dayOf(opts.now) - opts.retentionDays * DAY_MS;
      const dropped: string[] = [];
      for (const p of await listPartitions(client)) {
        if (p.day + DAY_MS > cutoff) break;
        await client.query(`DROP TABLE IF EXISTS ${p.name}`);
        dropped.push(p.name);
      }
      const capped: Record<string, number> = {};
      for (const job of await distinctJobs(client)) {
        const cut = await client.query<{ fire_time: Date }>('SELECT fire_time FROM zkshard_runs WHERE job = $1 ORDER BY fire_time DESC OFFSET $2 LIMIT 1', [job, opts.maxRowsPerJob - 1]);
        if (cut.rows.length === 0) continue;
        // Keep the newest maxRowsPerJob: rows strictly older than the cut, and the surplus at it.
        const deleted = await client.query(
          `DELETE FROM zkshard_runs WHERE (fire_time, id) IN (
             SELECT fire_time, id FROM zkshard_runs WHERE job = $1 ORDER BY fire_time DESC, id DESC OFFSET $2)`,
          [job, opts.maxRowsPerJob],
        );
        if ((deleted.rowCount ?? 0) > 0) capped[job] = deleted.rowCount ?? 0;
      }
      return { dropped, capped, skipped: false };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** The jobs with rows, by a loose index scan of the job+time index (one probe per job, not a scan of every row). */
async function distinctJobs(client: pg.PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ job: string }>(
    `WITH RECURSIVE jobs AS (
       (SELECT job FROM zkshard_runs ORDER BY job LIMIT 1)
       UNION ALL
       SELECT (SELECT job FROM zkshard_runs WHERE job > jobs.job ORDER BY job LIMIT 1) FROM jobs WHERE jobs.job IS NOT NULL
     ) SELECT job FROM jobs WHERE job IS NOT NULL`,
  );
  return rows.map((r) => r.job);
}
