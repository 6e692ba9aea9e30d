import { ZkshardError } from '../errors/zkshard-error.js';

/**
 * Thrown when the run history or the audit trail in PostgreSQL cannot be used: `HISTORY_UNAVAILABLE`
 * (PostgreSQL cannot be reached; `cause` holds the driver's error), `HISTORY_SCHEMA` (a migration
 * failed, or the database holds a newer schema than this version knows). Messages never quote a
 * password.
 */
export class HistoryError extends ZkshardError {
  constructor(code: 'HISTORY_UNAVAILABLE' | 'HISTORY_SCHEMA', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
