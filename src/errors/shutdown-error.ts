import { ZkshardError } from './zkshard-error.js';

/** The reason `ctx.signal` aborts when the worker shuts down and the grace period ran out. */
export class ShutdownError extends ZkshardError {
  constructor(message = 'worker shutting down: grace period over') {
    super('SHUTDOWN', message);
  }
}
