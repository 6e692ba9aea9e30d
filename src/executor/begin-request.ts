import type { MalformedDataError } from '../errors/malformed-data-error.js';
import type { BeginAsk } from './begin-decision.js';
import type { FireNotes } from './fire-note.js';

/** One fire of one item to put in flight (see `RunBeginner.begin`). */
export interface BeginRequest extends BeginAsk {
  job: string;
  item: number;
  /**
   * Do not run this fire left in flight: record it as failed (its runs took down `failovers`
   * owners, more than the job's `maxFailovers`). Valid like a re-run (`rerun` must be set).
   */
  poison?: { reason: string };
}

export type BeginResult =
  /** `notes`: the fires not run this begin recorded (the request's, less those accounted for already). */
  | { status: 'started'; token: string; notes: FireNotes }
  /** The item (or our membership) no longer exists. */
  | { status: 'gone' }
  /** This fire (or a later one) was already taken on: never run a fire twice. */
  | { status: 'duplicate' }
  /**
   * A fire is left in flight by a run that did not end, and this request does not continue it:
   * nothing was written; the item must be taken over first (see `decideBegin`).
   */
  | { status: 'takeover' }
  /** A `poison` request: the fire left in flight is recorded as failed, not run. */
  | { status: 'poisoned'; notes: FireNotes }
  /** The begin failed unexpectedly for this request: nothing was started for it. */
  | { status: 'error'; error: unknown }
  /** The item's progress record cannot be read: it is left alone (never written, never run). */
  | { status: 'malformed'; error: MalformedDataError };
