import { decodeJson, encodeJson } from './json-codec.js';

/** How a run (or a fire that never ran) ended. */
export type RunOutcome = 'success' | 'failed' | 'timeout' | 'aborted' | 'interrupted' | 'skipped' | 'missed';

/** A fire being run right now (or interrupted: still set with no running marker). */
export interface InFlightRun {
  /** ISO fire time. */
  fireTime: string;
  attempt: number;
  member: string;
  worker: string;
  /** ISO time the attempt started. */
  startedAt: string;
}

/**
 * One entry of an item's run history: a finished run (any outcome), or fires that were missed or
 * skipped (`attempt` 0, `error` says how many). Plain JSON, so that a sink (a database, a log
 * shipper) can store the same record; `WorkerOptions.onRun.finished` sees every run as it ends.
 */
export interface RecentOutcome {
  fireTime: string;
  outcome: RunOutcome;
  attempt: number;
  worker: string;
  durationMs?: number;
  /** Short error message of a failed attempt. */
  error?: string;
  /** ISO time it ended. */
  at: string;
  /** ISO time the fire's run started (absent for missed/skipped entries). */
  startedAt?: string;
}

/**
 * An item's progress record (`/jobs/<job>/items/<i>`), written by whoever holds the item's running
 * marker. With it a new owner knows what the last owner took on and whether it finished.
 */
export interface ProgressRecord {
  /** ISO time of the latest fire taken on (started, or deliberately skipped/missed). */
  lastScheduled?: string;
  /** ISO time of the latest fire that finished (any outcome but interrupted). */
  lastCompleted?: string;
  inFlight?: InFlightRun | null;
  /** Outcome of the latest finished attempt. */
  outcome?: RunOutcome;
  attempt?: number;
  durationMs?: number;
  worker?: string;
  /** The run history: the last `RECENT_OUTCOMES` outcomes, newest first. */
  recent?: RecentOutcome[];
}

/** How many entries an item's run history (`recent`) keeps: N in docs and `zkctl job --history`. */
export const RECENT_OUTCOMES = 10;

export const encodeProgress = (p: ProgressRecord): Buffer => encodeJson(p);
export const decodeProgress = (data: Buffer | undefined): ProgressRecord => decodeJson<ProgressRecord>(data) ?? {};

/** Adds an outcome to the front of `recent`, keeping it bounded. */
export function withOutcome(p: ProgressRecord, o: RecentOutcome): RecentOutcome[] {
  return [o, ...(p.recent ?? [])].slice(0, RECENT_OUTCOMES);
}
