import { ZkshardError } from './zkshard-error.js';

/**
 * The reason `ctx.signal` aborts when the worker lost its ZooKeeper lease: another worker may
 * soon own the item. Stop writing; a write made now would carry a stale fencing token.
 */
export class LeaseLostError extends ZkshardError {
  constructor(message = 'lease lost: no contact with ZooKeeper for most of the session timeout') {
    super('LEASE_LOST', message);
  }
}
