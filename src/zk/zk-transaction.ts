import type { ZkStat } from './zk-stat.js';
import { ZkError } from './zk-errors.js';

/** One operation of a multi. */
export type ZkOp =
  | { type: 'create'; path: string; data?: Buffer; mode: 'persistent' | 'ephemeral' }
  | { type: 'check'; path: string; version: number }
  | { type: 'setData'; path: string; data: Buffer; version: number }
  | { type: 'remove'; path: string; version: number };

/** The result of one operation of a committed multi, in order. */
export interface ZkOpResult {
  type: ZkOp['type'];
  /** For `create`: the path created. */
  path?: string;
  /** For `setData`: the node's new stat (its `mzxid` is the transaction's zxid). */
  stat?: ZkStat;
}

/**
 * A multi failed: nothing of it was applied. `failedIndex` is the operation the server rejected
 * (its typed error is the `cause`), or -1 when the whole request failed (connection, timeout).
 */
export class ZkTransactionError extends ZkError {
  readonly failedIndex: number;
  readonly failedOp: ZkOp | undefined;

  constructor(cause: ZkError, failedIndex: number, failedOp: ZkOp | undefined) {
    super(cause.code, failedOp ? `${cause.message} (operation ${failedIndex}: ${failedOp.type} ${failedOp.path})` : cause.message, {
      zkCode: cause.zkCode,
      path: failedOp?.path ?? cause.path,
      cause,
    });
    this.failedIndex = failedIndex;
    this.failedOp = failedOp;
  }

  /** The typed error of the rejected operation (e.g. `NodeExistsError`). */
  get reason(): ZkError {
    return this.cause as ZkError;
  }
}

/** Collects operations to commit atomically with `ZkClient.commit()`. */
export class ZkTransaction {
  readonly ops: ZkOp[] = [];

  create(path: string, data?: Buffer, mode: 'persistent' | 'ephemeral' = 'persistent'): this {
    this.ops.push({ type: 'create', path, data, mode });
    return this;
  }

  /** Fails the multi unless `path` exists (and, when `version` >= 0, has that data version). */
  check(path: string, version = -1): this {
    this.ops.push({ type: 'check', path, version });
    return this;
  }

  setData(path: string, data: Buffer, version = -1): this {
    this.ops.push({ type: 'setData', path, data, version });
    return this;
  }

  remove(path: string, version = -1): this {
    this.ops.push({ type: 'remove', path, version });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }
}
