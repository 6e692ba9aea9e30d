import type { FaultEvent } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import type { OverlapResult } from './check-overlaps.js';
import type { CoverageCounts } from './check-coverage.js';
import type { RecordedOnceCounts } from './check-recorded-once.js';
import type { StartAfterLossResult } from './check-no-start-after-loss.js';
import { checkConvergence, type ConvergenceMeasure } from './check-convergence.js';
import type { WorkerExitResult } from './check-worker-exits.js';
import { formatDuration } from './format-duration.js';
import { formatInstant } from './format-instant.js';

/** How many violations the report spells out (all are counted). */
export const REPORT_VIOLATION_LIMIT = 20;

/** Everything the chaos report shows: the run's facts and the result of every check. */
export interface ChaosSummary {
  /** The chaos phase, ms since the epoch. */
  startedAt: number;
  endedAt: number;
  /** The seed the fault schedule was drawn from (rerun with it to replay the schedule). */
  seed: string | number;
  /** Faults the harness injected. */
  faults: readonly FaultEvent[];
  overlaps: OverlapResult;
  coverage: CheckResult<CoverageCounts>;
  /** Fires accounted for twice (absent in reports made before the check existed). */
  recordedOnce?: CheckResult<RecordedOnceCounts>;
  startAfterLoss: StartAfterLossResult;
  /** Measured by the harness; a violation when `worstMs > boundMs`. */
  convergence: ConvergenceMeasure;
  /** Worker processes that ended, asked or not (absent in reports made before the check existed). */
  workerExits?: WorkerExitResult;
  /** Extra header lines, e.g. `5 workers, 3 ZooKeeper servers`. */
  context?: readonly string[];
}

const FAULT_KINDS: readonly { kind: FaultEvent['fault']; label: string }[] = [
  { kind: 'sigkill', label: 'SIGKILL worker (restarted)' },
  { kind: 'sigstop', label: 'SIGSTOP worker past session timeout' },
  { kind: 'sigterm', label: 'SIGTERM worker (restarted)' },
  { kind: 'zk-restart', label: 'restart one ZooKeeper server' },
  { kind: 'zk-outage', label: 'all ZooKeeper servers down' },
  { kind: 'partition-worker', label: 'worker cut from ZooKeeper, both ways, still running' },
  { kind: 'partition-worker-in', label: 'worker cut from ZooKeeper, inbound only' },
  { kind: 'partition-worker-out', label: 'worker cut from ZooKeeper, outbound only' },
  { kind: 'partition-zk-leader', label: 'ZooKeeper leader cut from the other servers' },
  { kind: 'partition-zk-minority', label: 'one ZooKeeper follower cut from the others' },
];

/**
 * Every violation of the run, in the report's order: a worker that ended on its own first (the
 * overlaps its open run makes follow from it), then by check. The run failed when there is any.
 */
export function summaryViolations(input: ChaosSummary): Violation[] {
  const { overlaps: o, coverage: c, recordedOnce: r, startAfterLoss: s, workerExits: w } = input;
  return [...(w?.violations ?? []), ...o.violations, ...c.violations, ...(r?.violations ?? []), ...s.violations, ...checkConvergence(input.convergence).violations];
}

/**
 * The chaos run as a markdown report: header (verdict, duration, seed), faults per kind, run
 * counts, one row per check (`| check | result | details |`), then the first
 * `REPORT_VIOLATION_LIMIT` violations. A result reads "what broke / what was checked": runs in a
 * violation / runs, unaccounted fires / scheduled fires, starts after a loss / starts, and for
 * convergence 0 or 1 / samples, workers that ended on their own / workers that ended; the list in
 * `summaryViolations`' order. Pure: no I/O, no clock.
 */
export function renderReport(input: ChaosSummary): string {
  const { overlaps: o, coverage: c, recordedOnce: r, startAfterLoss: s, workerExits: w } = input;
  const convergence = checkConvergence(input.convergence);
  const all = summaryViolations(input);
  const out: string[] = [];

  out.push(`# Chaos run report: ${all.length === 0 ? 'PASS' : `FAIL (${all.length} violation${all.length === 1 ? '' : 's'})`}`, '');
  out.push(`- Duration: ${formatDuration(input.endedAt - input.startedAt)} (${formatInstant(input.startedAt)} to ${formatInstant(input.endedAt)})`);
  out.push(`- Seed: \`${String(input.seed)}\``);
  for (const line of input.context ?? []) out.push(`- ${line}`);
  out.push('');

  out.push('## Faults', '', '| fault | count | total time |', '|---|---:|---:|');
  for (const { kind, label } of FAULT_KINDS) {
    const of = input.faults.filter((f) => f.fault === kind);
    out.push(`| ${label} | ${of.length} | ${of.length === 0 ? '—' : formatDuration(of.reduce((t, f) => t + Math.max(0, f.end - f.start), 0))} |`);
  }
  out.push(`| **total** | ${input.faults.length} | |`, '');

  const e = o.counts.endings;
  out.push(
    '## Runs', '',
    '| runs | ended | aborted | failed | killed mid-run | no end after SIGTERM | open at the end | store writes | stale writes refused |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${o.counts.runs} | ${e.end} | ${e.aborted} | ${e.failed} | ${e.killed} | ${e.terminated} | ${e.open} | ${o.counts.writes} | ${o.counts.staleWritesRefused} |`,
    '',
  );
  if (o.counts.orphanEnds > 0) out.push(`${o.counts.orphanEnds} run end event(s) had no matching start.`, '');

  const cc = c.counts;
  const conv = input.convergence;
  out.push('## Checks', '', '| check | result | details |', '|---|---|---|');
  out.push(row(
    'no two runs of an item overlap (unless fenced)',
    o.counts.violatingRuns, o.counts.runs, 'runs',
    `${o.counts.violations} violation(s): ${o.counts.overlappingPairs} overlapping pair(s), ${o.counts.excusedPairs} excused (older worker frozen, stopped on waking, its late writes refused); ` +
      `${o.counts.staleWritesAccepted} stale write(s) accepted, ${o.counts.staleWritesRefused} refused`,
  ));
  out.push(row(
    'every scheduled fire ran or was recorded',
    cc.unexcusedFires, cc.scheduledFires, 'fires',
    `${cc.ran} ran, ${cc.recorded} recorded as missed/skipped (${cc.recordedOnlyInZk} of them only in ZooKeeper's histories, not logged); ` +
      `${cc.gaps} gap(s), ${cc.unexcusedGaps} not accounted for`,
  ));
  if (r) {
    out.push(row(
      'every fire recorded once (no two notes, or a note and a run, for one fire)',
      r.counts.twice, r.counts.accounted, 'fires',
      `${r.violations.length} violation(s); logged notes and run starts only`,
    ));
  }
  out.push(row(
    'no run started after lease loss',
    s.counts.violations, s.counts.starts, 'starts',
    `${s.counts.losses} lease loss(es)`,
  ));
  out.push(row(
    'assignments converge within the bound',
    convergence.violations.length, conv.samples, 'samples',
    conv.samples === 0 ? 'not measured (no samples)' : `worst ${conv.worstMs} ms, bound ${conv.boundMs} ms`,
  ));
  if (w) {
    out.push(row(
      'no worker ends unless told to',
      w.counts.unasked, w.counts.exits, 'exits',
      `${w.counts.exits} worker process(es) ended, ${w.counts.unasked} of them on their own`,
    ));
  }
  out.push('');

  out.push('## Violations', '');
  if (all.length === 0) out.push('None.');
  else {
    if (all.length > REPORT_VIOLATION_LIMIT) out.push(`The first ${REPORT_VIOLATION_LIMIT} of ${all.length}:`, '');
    all.slice(0, REPORT_VIOLATION_LIMIT).forEach((v, i) => out.push(`${i + 1}. \`${v.check}\` ${v.detail}`));
  }
  return `${out.join('\n')}\n`;
}

function row(check: string, violations: number, checked: number, unit: string, details: string): string {
  const result = `${violations === 0 ? '✅' : '❌'} ${violations}/${checked} ${unit}`;
  return `| ${cell(check)} | ${result} | ${cell(details)} |`;
}

/** Table cells cannot hold `|` or line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
