import { ZkshardError } from './zkshard-error.js';

/** The reason `ctx.signal` aborts when a run exceeds the job's `timeoutMs`. */
export class RunTimeoutError extends ZkshardError {
  constructor(readonly timeoutMs: number) {
    super('RUN_TIMEOUT', `run exceeded timeoutMs (${timeoutMs} ms)`);
  }
}
