import type { RunOutcome } from '../model/progress-record.js';

/** How one fire of one item ended on this worker. */
export interface RunReport {
  job: string;
  item: number;
  fireTime: Date;
  /** The last attempt made. */
  attempt: number;
  outcome: RunOutcome;
  durationMs: number;
  error?: string;
}

/** The end of a run to record (see `RunReleaser.releaseThen`). */
export interface ReleaseRequest extends RunReport {
  /** Leave `inFlight` set so that the item's next owner runs this fire again (interrupted run). */
  keepInFlight: boolean;
  /**
   * Write the outcome to the item's record and history at once, even a success (a manual
   * trigger's: the operator who asked for it watches for its end).
   */
  recordOutcome?: boolean;
}
