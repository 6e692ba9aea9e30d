import { ZkshardError } from './zkshard-error.js';

export type SandboxErrorCode =
  /** The handler's thread or process died during a run (uncaught error, out of memory, exit). */
  | 'SANDBOX_CRASHED'
  /** The handler's thread or process was ended by the worker (abort past its grace, lease lost). */
  | 'SANDBOX_KILLED'
  /** The sandbox was closed (worker shutting down) while the run was in it. */
  | 'SANDBOX_CLOSED'
  /** The sandbox's entry module is missing (sources used without `npm run build`). */
  | 'SANDBOX_ENTRY_MISSING'
  /** A job asks for a sandbox the executor was not given. */
  | 'SANDBOX_UNAVAILABLE';

/** A sandboxed handler's thread or child process failed, was ended, or could not be had. */
export class SandboxError extends ZkshardError {
  declare readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
