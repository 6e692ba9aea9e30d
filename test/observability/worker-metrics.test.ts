import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { FIRE_LATENESS, FIRE_LATENESS_BUCKETS, WorkerMetrics } from '../../src/observability/worker-metrics.js';

/** A sample's value in a scrape's text, or undefined when it has no such series. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('WorkerMetrics', () => {
  it('counts the runs started (per job, lateness, failovers, fires missed) as they are told', async () => {
    const metrics = new WorkerMetrics();
    expect(sample(await metrics.text(), 'zkshard_runs_started_total{zkshard_job="a"}')).toBeUndefined();
    metrics.onRunStarted('a', 3, false, undefined);
    metrics.onRunStarted('a', -1, false, undefined);
    metrics.onRunStarted('b', undefined, true, 4);
    const text = await metrics.text();
    expect(sample(text, 'zkshard_runs_started_total{zkshard_job="a"}')).toBe(2);
    expect(sample(text, 'zkshard_runs_started_total{zkshard_job="b"}')).toBe(1);
    expect(sample(text, 'zkshard_failovers_total{zkshard_job="b"}')).toBe(1);
    expect(sample(text, 'zkshard_fires_missed_total{zkshard_job="b"}')).toBe(4);
    expect(sample(text, 'zkshard_fire_lateness_seconds_count')).toBe(2);
    expect(sample(text, 'zkshard_fire_lateness_seconds_sum')).toBe(0.003);
    expect(sample(text, 'zkshard_fire_lateness_seconds_bucket{le="0.001"}')).toBe(1);
  });

  it('writes the fire lateness as prom-client writes a histogram', async () => {
    const metrics = new WorkerMetrics();
    const registry = new Registry();
    const reference = new Histogram({ ...FIRE_LATENESS, buckets: [...FIRE_LATENESS_BUCKETS], registers: [registry] });
    for (const ms of [0, 1, 1.5, 2, 7, 20, 999, 1000, 4000, 6000]) {
      metrics.onRunStarted('a', ms, false, undefined);
      reference.observe(ms / 1000);
    }
    const written = (await metrics.text()).split('\n\n').find((block) => block.includes(`# TYPE ${FIRE_LATENESS.name} `))!.trim();
    expect(written).toBe((await registry.metrics()).trim());
  });

  it('writes the runs by job and the lateness after the registry, with the Node defaults', async () => {
    const metrics = new WorkerMetrics();
    metrics.onRunFinished('a', 'success', 30);
    metrics.onRunFinished('a', 'timeout', 60_000);
    const text = await metrics.text();
    expect(text).toContain('\n\n# HELP zkshard_runs_started_total ');
    expect(sample(text, 'zkshard_runs_finished_total{zkshard_job="a",outcome="timeout"}')).toBe(1);
    expect(sample(text, 'zkshard_run_duration_seconds_bucket{le="0.05",zkshard_job="a"}')).toBe(1);
    expect(sample(text, 'zkshard_run_duration_seconds_count{zkshard_job="a"}')).toBe(2);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text.endsWith('zkshard_fire_lateness_seconds_count 0\n')).toBe(true);
    // One family per name: nothing written twice.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });
});
