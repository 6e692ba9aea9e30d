import { ZkshardError } from './zkshard-error.js';

/**
 * An operator request (zkctl, the API) that was refused; nothing was changed.
 * - `REQUEST_INVALID`: bad arguments, or a request that makes no sense in the current state.
 * - `NOT_FOUND`: the job, item or worker named does not exist.
 * - `REQUEST_CONFLICT`: someone else changed the same data first (a version check failed).
 * - `REQUEST_TIMEOUT`: the request was written but the fleet did not act on it in time.
 */
export class RequestError extends ZkshardError {
  constructor(code: 'REQUEST_INVALID' | 'NOT_FOUND' | 'REQUEST_CONFLICT' | 'REQUEST_TIMEOUT', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
