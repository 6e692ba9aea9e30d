import { ZkshardError } from '../errors/zkshard-error.js';

/** Exit codes of `zkshard` and `zkctl`; decided only here. */
export const EXIT = {
  OK: 0,
  /** The operation failed. */
  FAILED: 1,
  /** Bad usage or input. */
  USAGE: 2,
  /** Not found, or ZooKeeper (or the history's PostgreSQL) unreachable. */
  UNAVAILABLE: 3,
  /** A long-running tool (`npm run bench`, `npm run chaos`) stopped at once by a second Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
  /** `zkshard stage`: the stage's command was ended by a signal. */
  KILLED: 128,
  /** ZooKeeper refused the credentials or the operation (wrong, missing or too weak an identity). */
  NOT_AUTHORIZED: 4,
} as const;

/** Maps an error to the exit code the CLI reports. */
export function exitCodeOf(err: unknown): number {
  if (!(err instanceof ZkshardError)) return EXIT.FAILED;
  if (err.code === 'NOT_AUTHORIZED') return EXIT.NOT_AUTHORIZED;
  if (err.code === 'CONFIG_INVALID' || err.code === 'USAGE' || err.code === 'REQUEST_INVALID') return EXIT.USAGE;
  if (err.code === 'REQUEST_CONFLICT') return EXIT.FAILED;
  if (err.code === 'ZK_UNAVAILABLE' || err.code === 'NOT_FOUND' || err.code === 'ZK_TIMEOUT' || err.code === 'ZK_CONNECTION_LOSS' || err.code === 'HISTORY_UNAVAILABLE') return EXIT.UNAVAILABLE;
  return EXIT.FAILED;
}
