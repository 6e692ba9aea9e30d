import pg from 'pg';
import type { Logger } from 'pino';
import { redactUrl } from '../config/postgres-url.js';

export interface HistoryPoolOptions {
  /** Most connections. @default 2 (one writing, one for retention) */
  max?: number;
  /** How long a connection attempt may take. @default 5000 */
  connectTimeoutMs?: number;
  /** How long one query may take before the client gives up on it. @default 30000 */
  queryTimeoutMs?: number;
}

/**
 * A connection pool to the history database. Errors of idle connections (PostgreSQL restarted or
 * went away) are logged, never thrown: the writer notices at its next write and keeps buffering.
 * The URL is logged with its password redacted.
 */
export function openHistoryPool(url: string, log: Logger, options: HistoryPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 2,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? 30_000,
    idleTimeoutMillis: 30_000,
    application_name: 'zkshard',
  });
  pool.on('error', (err) => log.debug({ err: { message: err.message, code: (err as { code?: string }).code } }, 'history: idle PostgreSQL connection closed'));
  log.debug({ postgres: redactUrl(url) }, 'history: PostgreSQL pool opened');
  return pool;
}

/** A driver error as logs show it: message and SQLSTATE code only (never the connection string). */
export function pgErrorOf(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string };
  return { message: e?.message ?? String(err), ...(e?.code ? { code: e.code } : {}) };
}
