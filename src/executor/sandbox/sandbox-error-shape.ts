import { LeaseLostError } from '../../errors/lease-lost-error.js';
import { RunTimeoutError } from '../../errors/run-timeout-error.js';
import { ShutdownError } from '../../errors/shutdown-error.js';
import { ZkshardError } from '../../errors/zkshard-error.js';
import type { ErrorShape } from './sandbox-messages.js';

/** What crosses the boundary of an error (or of anything thrown). */
export function toErrorShape(err: unknown): ErrorShape {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const shape: ErrorShape = { name: err.name, message: err.message };
  const { code, timeoutMs } = err as { code?: unknown; timeoutMs?: unknown };
  if (typeof code === 'string') shape.code = code;
  if (typeof timeoutMs === 'number') shape.timeoutMs = timeoutMs;
  return shape;
}

/** The error again: zkshard's abort reasons as their own classes, anything else as an `Error` of that name. */
export function fromErrorShape(shape: ErrorShape): Error {
  switch (shape.code) {
    case 'LEASE_LOST':
      return new LeaseLostError(shape.message);
    case 'SHUTDOWN':
      return new ShutdownError(shape.message);
    case 'RUN_TIMEOUT':
      if (shape.timeoutMs !== undefined) return new RunTimeoutError(shape.timeoutMs);
  }
  const err = shape.code === undefined ? new Error(shape.message) : new ZkshardError(shape.code, shape.message);
  err.name = shape.name;
  return err;
}
