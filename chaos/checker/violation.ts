/** The invariant a violation breaks (one name per rule the checker enforces). */
export type CheckName =
  /** Two runs of one item overlapped and fencing does not excuse it. */
  | 'overlap'
  /** The fenced store accepted a write with a smaller token than one it had accepted before. */
  | 'stale-write'
  /** Scheduled fires that never ran and that no missed/skipped note accounts for. */
  | 'coverage'
  /** A scheduled fire two logged notes, or a logged note and a run, stand for. */
  | 'recorded-once'
  /** A worker started a run after it knew its lease was lost and before it rejoined. */
  | 'start-after-loss'
  /** Assignments took longer than the bound to converge after a fault. */
  | 'convergence'
  /** A worker process ended without the harness asking it to (crashed, or exited on its own). */
  | 'worker-exit';

/**
 * One broken invariant found in a chaos run's records, with enough detail to find the log lines
 * that show it.
 */
export interface Violation {
  check: CheckName;
  /** One line for a human: what happened, with worker ids, pids, ISO times and tokens. */
  detail: string;
  /** The instant the violation is about (ms since the epoch), when there is one. */
  at?: number;
  job?: string;
  item?: number;
  /** The worker processes involved. */
  pids?: number[];
}

/** What every check returns: its violations, in time order, and the counts the report shows. */
export interface CheckResult<Counts> {
  violations: Violation[];
  counts: Counts;
}
