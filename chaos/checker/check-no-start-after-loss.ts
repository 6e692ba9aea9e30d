import { WORKER_PARTITIONS, type FaultEvent, type RunEvent, type SessionEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { formatInstant } from './format-instant.js';

export interface StartAfterLossCounts {
  /** Run starts checked (every `start` in the run log). */
  starts: number;
  /**
   * Lease losses: `lost` session events (a worker knew its lease was lost), plus freezes and
   * partitions of a worker longer than the session timeout (its lease was lost whether it knew or not).
   */
  losses: number;
  /** Run starts between a loss and the next join of the same process. */
  violations: number;
}

export type StartAfterLossResult = CheckResult<StartAfterLossCounts>;

/** What the check needs besides the run log and the session events. */
export interface StartAfterLossFacts {
  /** The faults injected; `sigstop` and worker partitions longer than the session timeout are losses. @default [] */
  faults?: readonly FaultEvent[];
  /** The workers' session timeout, ms. Without it faults are not losses. */
  sessionTimeoutMs?: number;
}

/** A time during which a pid had no lease: from `from` until its next join after `after`. */
interface LossWindow {
  pid: number;
  from: number;
  until: number;
  why: string;
}

/**
 * "No worker started a run after its lease was lost, until it rejoined as a new member":
 * - after a `lost` session event of a pid at t (it knew), until the next `joined` of that pid after t;
 * - from the start of a `sigstop` fault longer than the session timeout (it woke on an expired
 *   session, whether it noticed or not), until the next `joined` of that pid after SIGCONT;
 * - from `sessionTimeoutMs` after the start of a worker partition longer than the session
 *   timeout (no answer can have renewed its lease since the cut), until its next `joined` after the heal.
 * Any run `start` of that pid inside such a window is a violation (one per start, however many
 * windows cover it). Pure: no I/O, no clock.
 */
export function checkNoStartAfterLoss(
  runs: readonly RunEvent[],
  sessions: readonly SessionEvent[],
  facts: StartAfterLossFacts = {},
): StartAfterLossResult {
  const joins = new Map<number, number[]>();
  for (const s of sessions) if (s.kind === 'joined') joins.set(s.pid, [...(joins.get(s.pid) ?? []), s.at]);
  for (const list of joins.values()) list.sort((a, b) => a - b);
  const nextJoin = (pid: number, after: number): number => joins.get(pid)?.find((at) => at > after) ?? Infinity;

  const windows: LossWindow[] = [];
  for (const s of sessions) {
    if (s.kind !== 'lost') continue;
    windows.push({ pid: s.pid, from: s.at, until: nextJoin(s.pid, s.at), why: `it knew its lease was lost (${formatInstant(s.at)})` });
  }
  const timeoutMs = facts.sessionTimeoutMs;
  for (const f of facts.faults ?? []) {
    if (f.pid === undefined || timeoutMs === undefined || f.end - f.start <= timeoutMs) continue;
    if (f.fault === 'sigstop') {
      windows.push({
        pid: f.pid, from: f.start, until: nextJoin(f.pid, f.end),
        why: `it was frozen past its session timeout (SIGSTOP ${formatInstant(f.start)}–${formatInstant(f.end)}) and woke on an expired session`,
      });
    } else if (WORKER_PARTITIONS.includes(f.fault)) {
      windows.push({
        pid: f.pid, from: f.start + timeoutMs, until: nextJoin(f.pid, f.end),
        why: `it was cut off from ZooKeeper for longer than its session timeout (${f.fault} ${formatInstant(f.start)}–${formatInstant(f.end)})`,
      });
    }
  }

  const violations: Violation[] = [];
  let starts = 0;
  for (const r of runs) {
    if (r.event !== 'start') continue;
    starts++;
    const w = windows.find((x) => x.pid === r.pid && x.from < r.at && r.at < x.until);
    if (w === undefined) continue;
    violations.push({
      check: 'start-after-loss',
      at: r.at,
      job: r.job,
      item: r.item,
      pids: [r.pid],
      detail:
        `pid ${r.pid} (${r.worker}) started ${r.job}#${r.item} fire ${r.fire} attempt ${r.attempt} (token ${r.token}) at ` +
        `${formatInstant(r.at)}, ${r.at - w.from} ms after its lease was lost: ${w.why}; and ` +
        (w.until === Infinity ? 'it never rejoined' : `before it rejoined (${formatInstant(w.until)})`),
    });
  }
  violations.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return { violations, counts: { starts, losses: windows.length, violations: violations.length } };
}
