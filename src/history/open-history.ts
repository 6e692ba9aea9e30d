import type { Logger } from 'pino';
import type { HistoryConfig } from '../config/history-config.js';
import { redactUrl } from '../config/postgres-url.js';
import { openHistoryPool } from './history-db.js';
import { HistoryWriter } from './history-writer.js';

/** A worker's history writer for its `history:` settings (not started; the URL is logged redacted). */
export function openHistoryWriter(config: HistoryConfig, log: Logger): HistoryWriter {
  log.info({ postgres: redactUrl(config.postgresUrl), retentionDays: config.retentionDays, maxRowsPerJob: config.maxRowsPerJob, bufferSize: config.bufferSize }, 'history: runs recorded in PostgreSQL');
  return new HistoryWriter({
    pool: openHistoryPool(config.postgresUrl, log),
    log,
    bufferSize: config.bufferSize,
    retention: { retentionDays: config.retentionDays, maxRowsPerJob: config.maxRowsPerJob },
  });
}
