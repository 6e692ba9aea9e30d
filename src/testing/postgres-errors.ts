import { ZkshardError } from '../errors/zkshard-error.js';

/**
 * Thrown when a local PostgreSQL server does not come up in time, or exits while starting. The
 * message ends with the tail of the server log; `logTail` holds it too.
 */
export class PostgresStartError extends ZkshardError {
  readonly logTail: string;

  constructor(message: string, logTail: string, options?: { cause?: unknown }) {
    super('PG_SERVER_START_FAILED', logTail === '' ? message : `${message}\n${logTail}`, options);
    this.logTail = logTail;
  }
}

/** Thrown by `findPostgres` when no way to get a PostgreSQL works; the message says how to get one. */
export class PostgresNotFoundError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PG_NOT_FOUND', message, options);
  }
}
