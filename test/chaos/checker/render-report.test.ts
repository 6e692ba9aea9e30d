import { describe, expect, it } from 'vitest';
import { renderReport, type ChaosSummary } from '../../../chaos/checker/render-report.js';
import { checkOverlaps } from '../../../chaos/checker/check-overlaps.js';
import { checkCoverage } from '../../../chaos/checker/check-coverage.js';
import { checkNoStartAfterLoss } from '../../../chaos/checker/check-no-start-after-loss.js';
import { checkWorkerExits } from '../../../chaos/checker/check-worker-exits.js';
import type { ChaosJob, RunEvent } from '../../../chaos/chaos-records.js';
import { fault, fire, fireMs, JOB, run, session, write } from './records.js';

const job: ChaosJob = { name: JOB, cron: '* * * * * *', shards: 1 };
const window = { from: fireMs(0), to: fireMs(4) };
const faults = [
  fault('sigkill', 1, 1000, 1500), fault('sigkill', 2, 2000, 2600),
  fault('sigstop', 3, 3000, 13_000),
  fault('zk-outage', undefined, 20_000, 40_000),
];

/** One clean run per second 0..4, by pid 1. */
const cleanRuns: RunEvent[] = [0, 1, 2, 3, 4].flatMap((s) => run({ pid: 1, fire: fire(s), token: String(10 + s), start: fireMs(s) + 5, end: fireMs(s) + 200 }));

function summary(over: Partial<ChaosSummary> = {}, runs = cleanRuns): ChaosSummary {
  return {
    startedAt: fireMs(0),
    endedAt: fireMs(600),
    seed: 1234,
    faults,
    overlaps: checkOverlaps(runs, [], faults),
    coverage: checkCoverage(runs, [], [job], window, []),
    startAfterLoss: checkNoStartAfterLoss(runs, [session('joined', 1, 0)]),
    convergence: { worstMs: 4200, boundMs: 10_000, samples: 7 },
    ...over,
  };
}

describe('renderReport()', () => {
  it('shows the header, fault counts per kind, run counts and a passing row per check', () => {
    const md = renderReport(summary({ context: ['5 workers, 3 ZooKeeper servers'] }));
    expect(md).toMatch(/^# Chaos run report: PASS\n/);
    expect(md).toContain('- Duration: 10 min 0 s');
    expect(md).toContain('- Seed: `1234`');
    expect(md).toContain('- 5 workers, 3 ZooKeeper servers');
    expect(md).toContain('| SIGKILL worker (restarted) | 2 | 1.1 s |');
    expect(md).toContain('| SIGSTOP worker past session timeout | 1 | 10.0 s |');
    expect(md).toContain('| SIGTERM worker (restarted) | 0 | — |');
    expect(md).toContain('| all ZooKeeper servers down | 1 | 20.0 s |');
    expect(md).toContain('| **total** | 4 | |');
    expect(md).toContain('| 5 | 5 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |');
    expect(md).toContain('| check | result | details |');
    expect(md).toContain('| no two runs of an item overlap (unless fenced) | ✅ 0/5 runs | 0 violation(s): 0 overlapping pair(s), 0 excused');
    expect(md).toContain('| every scheduled fire ran or was recorded | ✅ 0/5 fires | 5 ran, 0 recorded as missed/skipped');
    expect(md).toContain('| no run started after lease loss | ✅ 0/5 starts | 0 lease loss(es) |');
    expect(md).toContain('| assignments converge within the bound | ✅ 0/7 samples | worst 4200 ms, bound 10000 ms |');
    expect(md).toContain('## Violations\n\nNone.');
  });

  it('fails with the violations of every check, the first 20 spelled out', () => {
    // 25 runs of one item all at once by live workers: C(25, 2) = 300 overlapping pairs.
    const runs = Array.from({ length: 25 }, (_, i) => run({ pid: 100 + i, fire: fire(i), token: String(50 + i), start: fireMs(0) + i, end: fireMs(30) })).flat();
    const md = renderReport(summary({
      coverage: checkCoverage(cleanRuns.filter((e) => e.fire !== fire(2)), [], [job], window, []),
      startAfterLoss: checkNoStartAfterLoss(run({ pid: 9, token: '1', start: 500 }), [session('lost', 9, 100)]),
      convergence: { worstMs: 12_000, boundMs: 10_000, samples: 7 },
    }, runs));
    expect(md).toMatch(/^# Chaos run report: FAIL \(303 violations\)\n/);
    expect(md).toContain('| no two runs of an item overlap (unless fenced) | ❌ 25/25 runs | 300 violation(s): 300 overlapping pair(s), 0 excused');
    expect(md).toContain('| every scheduled fire ran or was recorded | ❌ 1/5 fires | 4 ran, 0 recorded as missed/skipped (0 of them only in ZooKeeper\'s histories, not logged); 1 gap(s), 1 not accounted for |');
    expect(md).toContain('| no run started after lease loss | ❌ 1/1 starts | 1 lease loss(es) |');
    expect(md).toContain('| assignments converge within the bound | ❌ 1/7 samples | worst 12000 ms, bound 10000 ms |');
    expect(md).toContain('The first 20 of 303:');
    expect(md).toContain('\n1. `overlap` orders#0: the run of pid 100');
    expect(md).toContain('\n20. `overlap` ');
    expect(md).not.toContain('\n21. ');
  });

  it('puts the convergence violation in the list when it is among the first 20', () => {
    const md = renderReport(summary({ convergence: { worstMs: 12_000, boundMs: 10_000, samples: 7 } }));
    expect(md).toMatch(/^# Chaos run report: FAIL \(1 violation\)\n/);
    expect(md).toContain('\n1. `convergence` the slowest of 7 convergences took 12000 ms, more than the bound of 10000 ms\n');
  });

  it('lists a worker that ended on its own first, and counts the exits', () => {
    const workerExits = checkWorkerExits([
      { id: 'w1', pid: 1, at: fireMs(2), code: null, signal: 'SIGKILL', asked: true },
      { id: 'w2', pid: 2, at: fireMs(3), code: null, signal: 'SIGABRT', asked: false },
    ]);
    const md = renderReport(summary({ workerExits, convergence: { worstMs: 12_000, boundMs: 10_000, samples: 7 } }));
    expect(md).toMatch(/^# Chaos run report: FAIL \(2 violations\)\n/);
    expect(md).toContain('| no worker ends unless told to | ❌ 1/2 exits | 2 worker process(es) ended, 1 of them on their own |');
    expect(md).toContain('\n1. `worker-exit` w2 (pid 2) ended on its own at ');
    expect(md).toContain('\n2. `convergence` ');
    expect(renderReport(summary())).not.toContain('no worker ends');
  });

  it('counts refused stale writes and says when convergence was not measured', () => {
    const a = { pid: 1, token: '10', start: 100, end: 200 };
    const b = { pid: 2, token: '11', fire: fire(1), start: 300, end: 400 };
    const md = renderReport(summary({
      overlaps: checkOverlaps([...run(a), ...run(b)], [write(b, 310), write(a, 320, false, '11')], []),
      convergence: { worstMs: 0, boundMs: 10_000, samples: 0 },
    }));
    expect(md).toContain('0 stale write(s) accepted, 1 refused');
    expect(md).toContain('| 2 | 2 | 0 | 0 | 0 | 0 | 0 | 2 | 1 |');
    expect(md).toContain('| ✅ 0/0 samples | not measured (no samples) |');
  });
});
