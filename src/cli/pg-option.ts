import { Option, type Command } from 'commander';
import type pg from 'pg';
import { PG_URL_ENV } from '../config/history-config.js';
import { postgresUrlProblem, redactUrl } from '../config/postgres-url.js';
import { HistoryError } from '../history/history-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { silentLogger } from '../logging/create-logger.js';

/** `--pg <url>` (env `ZKSHARD_PG_URL`): the history database. Prefer the env: a flag shows in `ps`. */
export function pgOption(): Option {
  return new Option('--pg <url>', `history database postgres://user:password@host/db (prefer env ${PG_URL_ENV}: a flag shows in ps)`).env(PG_URL_ENV);
}

/**
 * The history database URL from `--pg`/`ZKSHARD_PG_URL`, or undefined when neither is set.
 * @throws ZkshardError USAGE (exit 2) for a malformed URL (shown with its password redacted).
 */
export function pgUrlOf(cmd: Command): string | undefined {
  const url = cmd.optsWithGlobals<{ pg?: string }>().pg?.trim();
  if (!url) return undefined;
  const problem = postgresUrlProblem(url);
  if (problem !== undefined) throw new ZkshardError('USAGE', `--pg (or ${PG_URL_ENV}) ${problem}, got ${redactUrl(url)}`);
  return url;
}

/**
 * Runs `fn` with a pool on the history database, its schema migrated (idempotent; under the
 * advisory lock) — `applied` lists the versions this call applied —; always closes the pool.
 * @throws HistoryError HISTORY_UNAVAILABLE (exit 3) when PostgreSQL cannot be reached.
 */
export async function withHistoryDb<T>(url: string, fn: (db: pg.Pool, applied: readonly number[]) => Promise<T>): Promise<T> {
  // Loaded on use: a command that never opens the database never loads the PostgreSQL client.
  const [{ openHistoryPool }, { migrate }] = await Promise.all([import('../history/history-db.js'), import('../history/migrations.js')]);
  const pool = openHistoryPool(url, silentLogger(), { max: 1, connectTimeoutMs: 3000 });
  try {
    let applied: readonly number[];
    try {
      applied = await migrate(pool);
    } catch (err) {
      if (err instanceof HistoryError) throw err;
      throw new HistoryError('HISTORY_UNAVAILABLE', `cannot reach PostgreSQL at ${redactUrl(url)}: ${(err as Error).message} (check --pg or ${PG_URL_ENV})`, { cause: err });
    }
    return await fn(pool, applied);
  } finally {
    await pool.end().catch(() => undefined);
  }
}
