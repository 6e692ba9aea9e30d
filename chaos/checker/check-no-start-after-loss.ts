import type { RunEvent, SessionEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { formatInstant } from './format-instant.js';

export interface StartAfterLossCounts {
  /** Run starts checked (every `start` in the run log). */
  starts: number;
  /** `lost` session events (a worker knew its lease was lost). */
  losses: number;
  /** Run starts between a loss and the next join of the same process. */
  violations: number;
}

export type StartAfterLossResult = CheckResult<StartAfterLossCounts>;

/**
 * "No worker started a run after it knew its lease was lost": for each `lost` session event of a
 * pid at time t, until the next `joined` of that pid strictly after t (or forever), any run
 * `start` of that pid with t < at < join is a violation (one per start, however many losses cover
 * it). Pure: no I/O, no clock.
 */
export function checkNoStartAfterLoss(runs: readonly RunEvent[], sessions: readonly SessionEvent[]): StartAfterLossResult {
  const byPid = new Map<number, SessionEvent[]>();
  for (const s of sessions) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  const windows = new Map<number, { lost: SessionEvent; until: number }[]>();
  let losses = 0;
  for (const [pid, events] of byPid) {
    const ordered = [...events].sort((a, b) => a.at - b.at);
    for (const lost of ordered) {
      if (lost.kind !== 'lost') continue;
      losses++;
      const join = ordered.find((e) => e.kind === 'joined' && e.at > lost.at);
      windows.set(pid, [...(windows.get(pid) ?? []), { lost, until: join?.at ?? Infinity }]);
    }
  }

  const violations: Violation[] = [];
  let starts = 0;
  for (const r of runs) {
    if (r.event !== 'start') continue;
    starts++;
    const w = windows.get(r.pid)?.find((x) => x.lost.at < r.at && r.at < x.until);
    if (w === undefined) continue;
    violations.push({
      check: 'start-after-loss',
      at: r.at,
      job: r.job,
      item: r.item,
      pids: [r.pid],
      detail:
        `pid ${r.pid} (${r.worker}) started ${r.job}#${r.item} fire ${r.fire} attempt ${r.attempt} (token ${r.token}) at ` +
        `${formatInstant(r.at)}, ${r.at - w.lost.at} ms after it knew its lease was lost (${formatInstant(w.lost.at)}) and ` +
        (w.until === Infinity ? 'it never rejoined' : `before it rejoined (${formatInstant(w.until)})`),
    });
  }
  violations.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return { violations, counts: { starts, losses, violations: violations.length } };
}
