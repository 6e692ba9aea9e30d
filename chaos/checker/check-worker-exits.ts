import type { CheckResult, Violation } from './violation.js';
import { formatInstant } from './format-instant.js';

/** A worker process that ended during the run (`WorkerFleet.exits`). */
export interface WorkerEnd {
  id: string;
  pid: number;
  /** ms since the epoch, when the harness saw it end. */
  at: number;
  code: number | null;
  signal: string | null;
  /** Whether the harness had sent it SIGTERM, SIGINT or SIGKILL. */
  asked: boolean;
}

export interface WorkerExitCounts {
  /** Worker processes that ended (asked or not). */
  exits: number;
  /** Of them, the ones that ended on their own. */
  unasked: number;
}

export type WorkerExitResult = CheckResult<WorkerExitCounts>;

/**
 * "A worker ends only when told to": every worker process that ended without a SIGTERM, SIGINT or
 * SIGKILL from the harness is a violation (a crash, or an exit of its own, under a fault that
 * should only have slowed it down). Pure: no I/O, no clock.
 */
export function checkWorkerExits(exits: readonly WorkerEnd[]): WorkerExitResult {
  const violations: Violation[] = exits.filter((e) => !e.asked).map((e) => ({
    check: 'worker-exit',
    detail: `${e.id} (pid ${e.pid}) ended on its own at ${formatInstant(e.at)} (exit code ${e.code}, signal ${e.signal ?? 'none'}): nothing asked it to`,
    at: e.at,
    pids: [e.pid],
  }));
  return { violations, counts: { exits: exits.length, unasked: violations.length } };
}
