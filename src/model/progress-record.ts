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
  /**
   * The run history: the last `RECENT_OUTCOMES` outcomes, newest first. Stored in its own node
   * (`items/<i>/history`), not in the progress record, so that the write that starts a run stays
   * small: `encodeProgress` leaves it out.
   */
  recent?: RecentOutcome[];
}

/** How many entries an item's run history (`recent`) keeps: N in docs and `zkctl job --history`. */
export const RECENT_OUTCOMES = 10;

/** The progress record as stored at `items/<i>` (without the run history). */
export function encodeProgress(p: ProgressRecord): Buffer {
  const { recent: _history, ...rest } = p;
  return encodeJson(rest);
}

export const decodeProgress = (data: Buffer | undefined): ProgressRecord => decodeJson<ProgressRecord>(data) ?? {};

/** The run history as stored at `items/<i>/history`. */
export const encodeHistory = (recent: readonly RecentOutcome[]): Buffer => encodeJson({ recent });

export function decodeHistory(data: Buffer | undefined): RecentOutcome[] {
  const h = decodeJson<{ recent?: RecentOutcome[] }>(data);
  return Array.isArray(h?.recent) ? h.recent : [];
}

/** Adds an outcome to the front of a history, keeping it bounded. */
export function withOutcome(recent: readonly RecentOutcome[] | undefined, o: RecentOutcome): RecentOutcome[] {
  return [o, ...(recent ?? [])].slice(0, RECENT_OUTCOMES);
}
