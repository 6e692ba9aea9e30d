import { ZkshardError } from '../errors/zkshard-error.js';

/**
 * Thrown when a local ZooKeeper server or ensemble does not come up in time, or its JVM exits while
 * starting. The message ends with the tail of the server log(s); `logTail` holds it too.
 */
export class ZooKeeperStartError extends ZkshardError {
  readonly logTail: string;

  constructor(message: string, logTail: string, options?: { cause?: unknown }) {
    super('ZK_SERVER_START_FAILED', logTail === '' ? message : `${message}\n${logTail}`, options);
    this.logTail = logTail;
  }
}

/** Thrown by `findZooKeeper` when no way to get a ZooKeeper works; the message says how to get one. */
export class ZooKeeperNotFoundError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ZK_NOT_FOUND', message, options);
  }
}
