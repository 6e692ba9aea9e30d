import { ZkshardError } from './zkshard-error.js';

/** A job's handler could not be loaded, or is not a function, or a script could not start. */
export class HandlerError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HANDLER_INVALID', message, options);
  }
}
