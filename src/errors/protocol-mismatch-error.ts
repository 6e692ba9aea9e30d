import { ZkshardError } from './zkshard-error.js';

/** Live members speak another run protocol than this worker: it does not join their fleet. */
export class ProtocolMismatchError extends ZkshardError {
  constructor(
    message: string,
    /**
     * The members in the way: node name, worker id and the protocol each announces (null: none);
     * `unreadable`: why its record cannot be read (its id then '?').
     */
    readonly members: ReadonlyArray<{ name: string; id: string; protocol: number | null; unreadable?: string }>,
  ) {
    super('PROTOCOL_MISMATCH', message);
  }
}
