import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect, runChaos, type ChaosOptions } from './run-chaos.js';
import { checkCoverage, checkNoStartAfterLoss, checkOverlaps, checkRecordedOnce, checkWorkerExits, renderReport, summaryViolations, type ChaosSummary } from './checker/index.js';

export interface ChaosSuiteResult {
  /** The markdown report. */
  report: string;
  /** Number of violations over all checks (0: every guarantee held). */
  violations: number;
  summary: ChaosSummary;
  /** Where the run's logs and records are. */
  dir: string;
}

/** Runs the fleet under faults, then checks the records; writes `report.md` next to the logs. */
export async function runChaosSuite(options: ChaosOptions): Promise<ChaosSuiteResult> {
  const data = await runChaos(options);
  const { runs, sessions, notes } = collect(data.dir);
  const writes = data.store.writes;
  writeFileSync(join(data.dir, 'store-writes.jsonl'), writes.map((w) => JSON.stringify(w)).join('\n'));
  writeFileSync(join(data.dir, 'faults.json'), JSON.stringify(data.faults, null, 2));
  const overlaps = checkOverlaps(runs, writes, data.faults);
  writeFileSync(join(data.dir, 'history-notes.jsonl'), data.historyNotes.map((n) => JSON.stringify(n)).join('\n'));
  const coverage = checkCoverage(runs, notes, data.jobs, data.window, data.historyNotes);
  const recordedOnce = checkRecordedOnce(runs, notes, data.jobs, data.window);
  const startAfterLoss = checkNoStartAfterLoss(runs, sessions, { faults: data.faults, sessionTimeoutMs: data.sessionTimeoutMs });
  const workerExits = checkWorkerExits(data.exits);
  const summary: ChaosSummary = {
    startedAt: data.startedAt,
    endedAt: data.endedAt,
    seed: data.seed,
    faults: data.faults,
    overlaps,
    coverage,
    recordedOnce,
    startAfterLoss,
    convergence: data.convergence,
    workerExits,
    context: [
      `fleet: ${options.workers ?? 5} worker processes, 3-server ZooKeeper ensemble ${data.partitions ? 'with every server and worker in a network namespace of its own' : 'on loopback (no partition faults)'}, session timeout ${data.sessionTimeoutMs} ms`,
      `faults: ${options.overlap ? 'overlapping (a new one every 0.5–3 s)' : 'one at a time'}`,
      `jobs: ${data.jobs.map((j) => `${j.name} (${j.cron}, ${j.shards} items)`).join(', ')}`,
      `reproduce: npm run chaos -- --duration ${Math.round(options.durationMs / 1000)}s --seed ${data.seed}${options.outageMs !== undefined ? ` --outage ${Math.round(options.outageMs / 1000)}s` : ''}` +
        `${data.partitions ? '' : ' --no-partitions'}${options.scripts ? ' --scripts' : ''}${options.overlap ? ' --overlap (the fault sequence depends on timing too)' : ''}`,
    ],
  };
  const report = renderReport(summary);
  writeFileSync(join(data.dir, 'report.md'), report);
  const violations = summaryViolations(summary).length;
  return { report, violations, summary, dir: data.dir };
}
