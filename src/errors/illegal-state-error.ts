import { ZkshardError } from './zkshard-error.js';

/** Thrown when a component is used out of its lifecycle: started twice, used after close. */
export class IllegalStateError extends ZkshardError {
  constructor(message: string) {
    super('ILLEGAL_STATE', message);
  }
}
