import type pg from 'pg';
import type { Logger } from 'pino';
import { HistoryError } from './history-error.js';

/** One step of the history schema: applied once, in order, recorded in `zkshard_schema_migrations`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, owned by the software. Never edit a released step: add the next one.
 *
 * Runs are partitioned by day of their fire time (`zkshard_runs_pYYYYMMDD`, created by the writer
 * for the days it writes; retention drops whole partitions). The primary key (fire time, id) makes
 * a batch written again after an unknown outcome a no-op. Indexes: job+time, job+item+time,
 * outcome+time and fire id, for `zkctl runs` and the console.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs and audit',
    sql: `
      CREATE TABLE zkshard_runs (
        id uuid NOT NULL,
        job text NOT NULL,
        item integer NOT NULL,
        fire_time timestamptz NOT NULL,
        fire_id text NOT NULL,
        attempt integer NOT NULL,
        worker text NOT NULL,
        member text,
        fencing_token bigint,
        reason text NOT NULL,
        started_at timestamptz,
        ended_at timestamptz NOT NULL,
        duration_ms integer,
        outcome text NOT NULL,
        error text,
        stages_done text[],
        fires integer NOT NULL DEFAULT 1,
        PRIMARY KEY (fire_time, id)
      ) PARTITION BY RANGE (fire_time);
      CREATE INDEX zkshard_runs_job_time ON zkshard_runs (job, fire_time DESC);
      CREATE INDEX zkshard_runs_job_item_time ON zkshard_runs (job, item, fire_time DESC);
      CREATE INDEX zkshard_runs_outcome_time ON zkshard_runs (outcome, fire_time DESC);
      CREATE INDEX zkshard_runs_fire_id ON zkshard_runs (fire_id);
      CREATE TABLE zkshard_audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        zk_user text,
        os_user text,
        host text,
        console_user text,
        action text NOT NULL,
        target text NOT NULL,
        request jsonb NOT NULL,
        result jsonb NOT NULL
      );
      CREATE INDEX zkshard_audit_at ON zkshard_audit (at DESC);
    `,
  },
];

/** Advisory lock held while migrating: workers starting together apply each step once. */
export const MIGRATION_LOCK_KEY = 0x7a6b_0001;

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database's schema to {@link SCHEMA_VERSION} under an advisory lock, each step in its
 * own transaction. Returns the versions applied now (none when it was current).
 * @throws HistoryError HISTORY_SCHEMA when a step fails, or the database is at a newer version.
 */
export async function migrate(pool: pg.Pool, log?: Logger): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS zkshard_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM zkshard_schema_migrations');
      const done = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > SCHEMA_VERSION) throw new HistoryError('HISTORY_SCHEMA', `history: the database's schema is at version ${newest}, newer than this zkshard knows (${SCHEMA_VERSION}): upgrade zkshard`);
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query('INSERT INTO zkshard_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new HistoryError('HISTORY_SCHEMA', `history: migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
        log?.info({ version: m.version, name: m.name }, 'history schema migrated');
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
