/** The run history's settings (`history:` of a worker's file, env `ZKSHARD_PG_URL`). */
export interface HistoryConfig {
  /** `postgres://user:password@host:5432/db`. Env `ZKSHARD_PG_URL` wins over the file. Never logged with its password. */
  postgresUrl: string;
  /** Days of runs kept: older day partitions are dropped. 1..3650. @default 30 */
  retentionDays: number;
  /** Most rows kept per job (the oldest beyond it are deleted): a job firing every second stays bounded. @default 1000000 */
  maxRowsPerJob: number;
  /** Records a worker holds while PostgreSQL is slow or down; beyond it they are dropped and counted. @default 100000 */
  bufferSize: number;
}

/** Defaults of {@link HistoryConfig} (one place; documented in README and docs/HISTORY.md). */
export const HISTORY_DEFAULTS = {
  retentionDays: 30,
  maxRowsPerJob: 1_000_000,
  /** About 40 MB of records: 12 s of 8,000 runs/s, or an hour of a fleet doing 25 runs/s. */
  bufferSize: 100_000,
  /** A live worker writes its records at least this often (a SIGKILL loses at most this much). */
  flushIntervalMs: 1000,
  /** Most rows per INSERT. */
  batchSize: 5000,
  /** How often retention (partitions, per-job cap) runs; once at start too. */
  maintenanceIntervalMs: 10 * 60_000,
} as const;

export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 3650;
export const MIN_MAX_ROWS_PER_JOB = 100;
export const MIN_BUFFER_SIZE = 100;
/** Env variable of the PostgreSQL URL (worker and zkctl). */
export const PG_URL_ENV = 'ZKSHARD_PG_URL';
