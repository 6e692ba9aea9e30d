import type { BeginRequest } from './run-ledger.js';
import type { FireNotes } from './fire-note.js';

/** One fire of one item to run. */
export interface FireRequest extends BeginRequest {
  reason: 'schedule' | 'failover' | 'misfire' | 'queued' | 'trigger';
  /**
   * Set once begun: the fires not run its begin recorded (`missed`/`skipped` less those accounted
   * for already). What the metrics count; `missed`/`skipped` stay as asked (the scheduler settles them).
   */
  recorded?: FireNotes;
}
