import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { FAILOVERS, FIRES_MISSED, FIRES_SKIPPED, JobRunMetrics, RUN_DURATION, RUN_DURATION_BUCKETS, RUNS_FINISHED, RUNS_STARTED } from '../../src/observability/job-run-metrics.js';
import { RUN_OUTCOMES, type RunOutcome } from '../../src/model/progress-record.js';

/** The same metrics as prom-client writes them, fed the same runs. */
/** What happens to a job: a run's end (its outcome), a run started (plain, a failover's, with fires missed), a fire skipped. */
type JobEvent = RunOutcome | 'started' | 'failover' | 'missed' | 'skipped fire';

async function promClientText(runs: ReadonlyArray<[string, JobEvent, number]>): Promise<string> {
  const registry = new Registry();
  const started = new Counter({ ...RUNS_STARTED, labelNames: ['zkshard_job'], registers: [registry] });
  const skipped = new Counter({ ...FIRES_SKIPPED, labelNames: ['zkshard_job'], registers: [registry] });
  const missed = new Counter({ ...FIRES_MISSED, labelNames: ['zkshard_job'], registers: [registry] });
  const failovers = new Counter({ ...FAILOVERS, labelNames: ['zkshard_job'], registers: [registry] });
  const finished = new Counter({ ...RUNS_FINISHED, labelNames: ['zkshard_job', 'outcome'], registers: [registry] });
  const duration = new Histogram({ ...RUN_DURATION, labelNames: ['zkshard_job'], buckets: [...RUN_DURATION_BUCKETS], registers: [registry] });
  for (const [job, outcome, durationMs] of runs) {
    if (outcome === 'started' || outcome === 'failover' || outcome === 'missed') {
      started.inc({ zkshard_job: job });
      if (outcome === 'failover') failovers.inc({ zkshard_job: job });
      if (outcome === 'missed') missed.inc({ zkshard_job: job }, missedOf(durationMs));
      continue;
    }
    if (outcome === 'skipped fire') {
      skipped.inc({ zkshard_job: job });
      continue;
    }
    finished.inc({ zkshard_job: job, outcome });
    duration.observe({ zkshard_job: job }, durationMs / 1000);
  }
  return registry.metrics();
}

/** The fires missed a 'missed' event carries (from its number, so that both sides get the same). */
const missedOf = (n: number): number => 1 + (Math.floor(n) % 5);

/** Each metric's lines (HELP, TYPE, then its samples as a sorted set: the two order series differently). */
function byMetric(text: string): Record<string, { head: string[]; samples: string[] }> {
  const out: Record<string, { head: string[]; samples: string[] }> = {};
  for (const block of text.trim().split('\n\n')) {
    const lines = block.split('\n');
    const name = lines[0]!.split(' ')[2]!;
    out[name] = { head: lines.slice(0, 2), samples: lines.slice(2).sort() };
  }
  return out;
}

describe('JobRunMetrics', () => {
  it('writes what prom-client writes for the same runs', async () => {
    const job = fc.constantFrom('a', 'sync-orders', 'with "quotes"', 'back\\slash', 'new\nline');
    const outcome = fc.constantFrom<JobEvent>(...RUN_OUTCOMES, 'started', 'failover', 'missed', 'skipped fire');
    // Bounds themselves, either side of them, zero, and long runs.
    const durationMs = fc.oneof(fc.constantFrom(0, 10, 50, 1000, 2500, 1_800_000, 1_800_001), fc.integer({ min: 0, max: 4_000_000 }), fc.double({ min: 0, max: 100_000, noNaN: true }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(job, outcome, durationMs), { maxLength: 60 }), async (runs) => {
        const metrics = new JobRunMetrics();
        for (const [j, o, d] of runs) {
          if (o === 'started') metrics.onRunStarted(j);
          else if (o === 'failover') metrics.onRunStarted(j, true);
          else if (o === 'missed') metrics.onRunStarted(j, false, missedOf(d));
          else if (o === 'skipped fire') metrics.onFireSkipped(j);
          else metrics.onRunFinished(j, o, d);
        }
        expect(byMetric(metrics.text())).toEqual(byMetric(await promClientText(runs)));
      }),
      { numRuns: 300 },
    );
  });

  it('has no series for a job before its first event, and counts each outcome of a job apart', () => {
    const metrics = new JobRunMetrics();
    const counterHead = (c: { name: string; help: string }) => `# HELP ${c.name} ${c.help}\n# TYPE ${c.name} counter\n\n`;
    expect(metrics.text()).toBe(
      `${[RUNS_STARTED, FIRES_SKIPPED, FIRES_MISSED, FAILOVERS].map(counterHead).join('')}# HELP ${RUNS_FINISHED.name} ${RUNS_FINISHED.help}\n# TYPE ${RUNS_FINISHED.name} counter\n\n# HELP ${RUN_DURATION.name} ${RUN_DURATION.help}\n# TYPE ${RUN_DURATION.name} histogram`,
    );
    metrics.onRunStarted('s');
    expect(metrics.text()).toContain('zkshard_runs_started_total{zkshard_job="s"} 1');
    expect(metrics.text()).not.toContain('zkshard_job="s",outcome');
    expect(metrics.text()).not.toContain('_count{zkshard_job="s"}');
    metrics.onRunFinished('j', 'success', 20);
    metrics.onRunFinished('j', 'failed', 3000);
    metrics.onRunFinished('j', 'success', 5);
    const text = metrics.text();
    expect(text).toContain('zkshard_runs_finished_total{zkshard_job="j",outcome="success"} 2');
    expect(text).toContain('zkshard_runs_finished_total{zkshard_job="j",outcome="failed"} 1');
    expect(text).not.toContain('outcome="timeout"');
    expect(text).toContain('zkshard_run_duration_seconds_bucket{le="0.01",zkshard_job="j"} 1');
    expect(text).toContain('zkshard_run_duration_seconds_bucket{le="2.5",zkshard_job="j"} 2');
    expect(text).toContain('zkshard_run_duration_seconds_bucket{le="5",zkshard_job="j"} 3');
    expect(text).toContain('zkshard_run_duration_seconds_count{zkshard_job="j"} 3');
    expect(text).toContain('zkshard_run_duration_seconds_sum{zkshard_job="j"} 3.025');
  });
});
