/**
 * What the fleet simulation records for its checker (`fleet-checker.ts`). Times are virtual
 * monotonic ms (`SimClock.nowMs`); fire times are wall ms (what cron instants are).
 */
import type { RecordedRun } from '../executor/run-recorder.js';

/** How often the simulation samples each job's state at the server (disabled items, live owners). */
export const SAMPLE_MS = 250;

/** One entry into a handler, and when it returned. */
export interface RunRecord {
  process: string;
  session: bigint;
  job: string;
  item: number;
  fireMs: number;
  attempt: number;
  token: bigint;
  startMs: number;
  /** Undefined while it still works (at the end of the simulation). */
  endMs?: number;
  aborted?: boolean;
  /** Cut short by its process's death or its lease's loss (the fire stays in flight, to be run again). */
  interrupted?: boolean;
  /** At entry: the server still had the run's session. */
  sessionLive: boolean;
  /** At entry: the ledger of the run's session's member had the run in flight (run protocol v2: the run is held). */
  held: boolean;
}

/** A fire the executor began (its `started` event): any reason, with the notes it recorded. */
export interface StartedFire {
  atMs: number;
  process: string;
  job: string;
  item: number;
  fireMs: number;
  reason: string;
  token: bigint;
  missed?: { count: number; latestMs: number };
  skipped?: { count: number; latestMs: number };
  poisoned?: boolean;
}

/** The state of one job at the server, sampled every `SAMPLE_MS`. */
export interface JobSample {
  atMs: number;
  job: string;
  /** Items of the job (its definition's `shards`), 0 when the job is gone. */
  shards: number;
  /** Items that must not fire: in the control node (or the whole job disabled) or in the assignment. */
  disabled: ReadonlySet<number>;
  /** Per item: the owner named by the assignment is a live member. */
  ownedLive: readonly boolean[];
}

export type FleetIncident =
  /** A write to an assignment by a session that was not the named leader's live member. */
  | { kind: 'assignment-write'; atMs: number; path: string; zxid: bigint; detail: string }
  /** A run begun (put in flight in a ledger) by a member the item's assignment did not name as owner then, or not on its member's session. */
  | { kind: 'begin-not-owner'; atMs: number; path: string; zxid: bigint; detail: string }
  /**
   * A ledger claimed an instant past the item's record, was written by a session neither its
   * member's nor the operator's, or put an item in flight that another live member's ledger has in
   * flight; or a gone member's current entries and the item's record disagree.
   */
  | { kind: 'ledger-mismatch'; atMs: number; path: string; zxid: bigint; detail: string }
  /** What a takeover read of the members' ledgers contradicted the item's record it read after (`takeoverDisagreement`). */
  | { kind: 'ledger-disagreement'; atMs: number; process: string; job: string; item: number; detail: string };

export interface ProcessEvent {
  atMs: number;
  process: string;
  kind: 'frozen' | 'thawed' | 'crashed';
}

export interface OperatorEvent {
  atMs: number;
  action: string;
  job?: string;
  item?: number;
  /** For a reshard: the item nodes it removed (forced: with their runs going on). */
  removed?: number[];
  force?: boolean;
  error?: string;
}

/** A missed or skipped entry as the server first held it in an item's history node. */
export interface RecordedNote {
  atMs: number;
  job: string;
  item: number;
  outcome: 'missed' | 'skipped';
  count: number;
  latestMs: number;
}

/** Everything the checker is given. */
export interface FleetLog {
  runs: RunRecord[];
  started: StartedFire[];
  /** Every missed/skipped entry ever written to a history node (histories keep only the latest few). */
  notes: RecordedNote[];
  /** Every entry the workers handed their run recorder (what the history writer stores), with its process and when (virtual ms). */
  recorded: Array<RecordedRun & { process: string; atMs: number }>;
  /** Every item node made (a forced reshard's undo makes one anew): when, and at which zxid. */
  itemBirths: Array<{ job: string; item: number; zxid: bigint; atMs: number }>;
  samples: JobSample[];
  incidents: FleetIncident[];
  processes: ProcessEvent[];
  operator: OperatorEvent[];
  /** Session id → when the server ended it (virtual ms) and whether it timed out. */
  sessionEnds: Map<bigint, { atMs: number; expired: boolean }>;
  /** Runs an operator's forced `remove`/`reshard` took from live members' ledgers: when, and at which zxid. */
  forcedDeletes: Array<{ job: string; item: number; zxid: bigint; atMs: number }>;
}

export function emptyFleetLog(): FleetLog {
  return { runs: [], started: [], notes: [], recorded: [], itemBirths: [], samples: [], incidents: [], processes: [], operator: [], sessionEnds: new Map(), forcedDeletes: [] };
}
