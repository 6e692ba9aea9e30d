import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { WorkerMetrics } from '../../src/observability/worker-metrics.js';

async function value(metrics: WorkerMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const found = (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && !('le' in v.labels));
  return found?.value;
}

describe('WorkerMetrics', () => {
  it('counts the runs started in a turn after it (per job, lateness, failovers, fires missed); a scrape counts what is pending', async () => {
    const metrics = new WorkerMetrics();
    metrics.onRunStarted({ job: 'a', latenessMs: 3, failover: false });
    metrics.onRunStarted({ job: 'a', latenessMs: -1, failover: false });
    metrics.onRunStarted({ job: 'b', failover: true, missed: 4 });
    // Not yet: the handlers of the turn come first.
    expect(await value(metrics, 'zkshard_runs_started_total', { zkshard_job: 'a' })).toBeUndefined();
    await nextTurn();
    expect(await value(metrics, 'zkshard_runs_started_total', { zkshard_job: 'a' })).toBe(2);
    expect(await value(metrics, 'zkshard_runs_started_total', { zkshard_job: 'b' })).toBe(1);
    expect(await value(metrics, 'zkshard_failovers_total', { zkshard_job: 'b' })).toBe(1);
    expect(await value(metrics, 'zkshard_fires_missed_total', { zkshard_job: 'b' })).toBe(4);
    const text = await metrics.text();
    expect(text).toContain('zkshard_fire_lateness_seconds_count 2');
    expect(text).toContain('zkshard_fire_lateness_seconds_sum 0.003');
    // A scrape in the same turn as a start counts it.
    metrics.onRunStarted({ job: 'a', latenessMs: 1, failover: false });
    expect(await metrics.text()).toContain('zkshard_runs_started_total{zkshard_job="a"} 3');
  });

  it('writes the runs finished by job after the registry, with the Node defaults and the lateness', async () => {
    const metrics = new WorkerMetrics();
    metrics.onRunFinished('a', 'success', 30);
    metrics.onRunFinished('a', 'timeout', 60_000);
    const text = await metrics.text();
    expect(text).toContain('\n\n# HELP zkshard_runs_finished_total ');
    expect(text).toContain('zkshard_runs_finished_total{zkshard_job="a",outcome="timeout"} 1');
    expect(text).toContain('zkshard_run_duration_seconds_bucket{le="0.05",zkshard_job="a"} 1');
    expect(text).toContain('zkshard_run_duration_seconds_count{zkshard_job="a"} 2');
    expect(text).toContain('# TYPE zkshard_fire_lateness_seconds histogram');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text.endsWith('} 2\n')).toBe(true);
  });
});
