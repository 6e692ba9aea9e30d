import { ZkshardError } from './zkshard-error.js';

/**
 * A record read from ZooKeeper that is not what zkshard writes: not JSON, larger than any record
 * zkshard writes, a field of the wrong type or out of bounds. `path` is the znode, `reason` says
 * what is wrong (in words, naming the field and the bad value, shortened). Whoever reads such a
 * record leaves what it describes alone: a job whose definition is malformed does not fire, an
 * item whose state cannot be read is not run, a trigger that cannot be read triggers nothing.
 */
export class MalformedDataError extends ZkshardError {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('ZK_DATA_MALFORMED', `malformed data at ${path}: ${reason}`, options);
    this.path = path;
    this.reason = reason;
  }
}

/** Whether `err` is a MalformedDataError (by its code, so that one from another copy of the module counts too). */
export function isMalformedDataError(err: unknown): err is MalformedDataError {
  return (err as { code?: unknown } | undefined)?.code === 'ZK_DATA_MALFORMED';
}
