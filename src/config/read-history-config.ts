import type { ConfigReader } from './config-reader.js';
import { HISTORY_DEFAULTS, MAX_RETENTION_DAYS, MIN_BUFFER_SIZE, MIN_MAX_ROWS_PER_JOB, MIN_RETENTION_DAYS, PG_URL_ENV, type HistoryConfig } from './history-config.js';
import { postgresUrlProblem, redactUrl } from './postgres-url.js';

const HISTORY_KEYS = ['postgresUrl', 'retentionDays', 'maxRowsPerJob', 'bufferSize'];
const MAX_INT = Number.MAX_SAFE_INTEGER;

/**
 * Reads `history: { postgresUrl, retentionDays, maxRowsPerJob, bufferSize }`; `ZKSHARD_PG_URL` in
 * `env` wins over `postgresUrl` (and turns the history on by itself, with the defaults). Undefined:
 * no history in PostgreSQL. A bad URL is reported with its password redacted.
 */
export function readHistoryConfig(r: ConfigReader, raw: unknown, env: NodeJS.ProcessEnv): HistoryConfig | undefined {
  const h = r.mapping(raw, 'history', HISTORY_KEYS, true) ?? {};
  const fromEnv = env[PG_URL_ENV]?.trim();
  let url: string | undefined;
  let source = 'history.postgresUrl';
  if (fromEnv) {
    url = fromEnv;
    source = `environment variable ${PG_URL_ENV}`;
  } else if (h.postgresUrl !== undefined && h.postgresUrl !== null) {
    if (typeof h.postgresUrl !== 'string') r.report('history.postgresUrl', 'must be a string: postgres://user:password@host:5432/database', typeof h.postgresUrl === 'object' ? '<not a string>' : h.postgresUrl);
    else url = h.postgresUrl;
  }
  const retentionDays = r.integer(h, 'history', 'retentionDays', MIN_RETENTION_DAYS, MAX_RETENTION_DAYS, HISTORY_DEFAULTS.retentionDays);
  const maxRowsPerJob = r.integer(h, 'history', 'maxRowsPerJob', MIN_MAX_ROWS_PER_JOB, MAX_INT, HISTORY_DEFAULTS.maxRowsPerJob);
  const bufferSize = r.integer(h, 'history', 'bufferSize', MIN_BUFFER_SIZE, 10_000_000, HISTORY_DEFAULTS.bufferSize);
  if (url === undefined) {
    if (Object.keys(h).length > 0) r.report('history.postgresUrl', `is required when history is configured (or set ${PG_URL_ENV})`);
    return undefined;
  }
  const problem = postgresUrlProblem(url);
  if (problem !== undefined) {
    r.report('history.postgresUrl', fromEnv ? `${problem} (set by ${source})` : problem, redactUrl(url));
    return undefined;
  }
  if (retentionDays === undefined || maxRowsPerJob === undefined || bufferSize === undefined) return undefined;
  return { postgresUrl: url, retentionDays, maxRowsPerJob, bufferSize };
}
