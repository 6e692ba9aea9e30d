import type { ZkStat } from './zk-stat.js';
import { ZkError } from './zk-errors.js';
import { DEFAULT_MAX_REQUEST_BYTES, MULTI_FIXED_BYTES, OPEN_ACL_BYTES, opBytes } from './multi-size.js';

import type { ZkOp } from './zk-op.js';

export type { ZkOp } from './zk-op.js';

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
  /** Size of each op on the wire (see multi-size.ts). */
  private readonly opSizes: number[] = [];
  private total = MULTI_FIXED_BYTES;
  /** Bytes set aside for ops added later (`reserve`), each with the number of ops it came after. */
  private readonly reservations: Array<{ after: number; bytes: number }> = [];
  private reservedBytes = 0;

  /**
   * @param maxBytes the largest request the client sends (`ZkClient` passes its `maxRequestBytes`)
   * @param pathPrefixBytes bytes of the chroot the client puts before every path
   * @param createAclBytes bytes of the ACL list the client gives every create (`aclBytes`)
   */
  constructor(
    readonly maxBytes = DEFAULT_MAX_REQUEST_BYTES,
    private readonly pathPrefixBytes = 0,
    private readonly createAclBytes = OPEN_ACL_BYTES,
  ) {}

  create(path: string, data?: Buffer, mode: 'persistent' | 'ephemeral' = 'persistent'): this {
    return this.add({ type: 'create', path, data, mode });
  }

  /** Fails the multi unless `path` exists (and, when `version` >= 0, has that data version). */
  check(path: string, version = -1): this {
    return this.add({ type: 'check', path, version });
  }

  setData(path: string, data: Buffer, version = -1): this {
    return this.add({ type: 'setData', path, data, version });
  }

  remove(path: string, version = -1): this {
    return this.add({ type: 'remove', path, version });
  }

  get size(): number {
    return this.ops.length;
  }

  /** The request's size on the wire, in bytes (exact). */
  get bytes(): number {
    return this.total;
  }

  /**
   * The request's size if every create carried an ACL of `createAclBytes` instead (the client's ACL
   * changed since this multi was begun, e.g. the namespace was secured meanwhile).
   */
  bytesWithCreateAcl(createAclBytes: number): number {
    const creates = this.ops.reduce((n, op) => n + (op.type === 'create' ? 1 : 0), 0);
    return this.total + creates * (createAclBytes - this.createAclBytes);
  }

  /** Whether the request (with what is reserved) has grown past `maxBytes` (then `truncate` back, or it cannot be committed). */
  get overLimit(): boolean {
    return this.total + this.reservedBytes > this.maxBytes;
  }

  /**
   * Sets `bytes` aside for ops that will be added after the multi is filled (e.g. a record that
   * sums up what its ops do): counted by `overLimit`, dropped by a `truncate` to fewer ops than
   * there are now, and all given back by `unreserve` (before those ops are added).
   */
  reserve(bytes: number): this {
    this.reservations.push({ after: this.ops.length, bytes });
    this.reservedBytes += bytes;
    return this;
  }

  /** Gives back every byte `reserve` set aside. */
  unreserve(): this {
    this.reservations.length = 0;
    this.reservedBytes = 0;
    return this;
  }

  /** Bytes `op` would add to this multi (to cut a list of ops into multis up front). */
  measure(op: ZkOp): number {
    return opBytes(op, this.pathPrefixBytes, this.createAclBytes);
  }

  /**
   * Fills a multi with the ops of one request, as `adder.add(this, request)` puts them in:
   * 'left out' when it returns false (whatever it put in is taken out again); 'full' when they
   * make the request larger than `maxBytes` and `alone` is false (there is something in the multi
   * already to send first): they are taken out again, and go in the next multi. (An object's
   * method rather than a closure made per round: V8 drops a closure's optimized code with the
   * closure at a full collection, and compiles it again; a class method's code stays.)
   */
  addIfFits<R>(adder: { add(tx: ZkTransaction, request: R): boolean | void }, request: R, alone: boolean): 'added' | 'left out' | 'full' {
    const mark = this.ops.length;
    if (adder.add(this, request) === false) {
      this.truncate(mark);
      return 'left out';
    }
    if (!this.overLimit || alone) return 'added';
    this.truncate(mark);
    return 'full';
  }

  /** Drops every op after the first `length` (to undo the ops that made it too large). */
  truncate(length: number): this {
    while (this.ops.length > length) {
      this.ops.pop();
      this.total -= this.opSizes.pop()!;
    }
    while (this.reservations.length > 0 && this.reservations[this.reservations.length - 1]!.after > length) {
      this.reservedBytes -= this.reservations.pop()!.bytes;
    }
    return this;
  }

  private add(op: ZkOp): this {
    const bytes = this.measure(op);
    this.ops.push(op);
    this.opSizes.push(bytes);
    this.total += bytes;
    return this;
  }
}
