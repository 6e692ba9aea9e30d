import { describe, expect, it } from 'vitest';
import { Gauge, Histogram, Registry } from 'prom-client';
import fc from 'fast-check';
import { ASSIGNMENT_GENERATION, FIRE_LATENESS, FIRE_LATENESS_BUCKETS, ITEMS_OWNED, ITEMS_RUNNING, ITEMS_STALLED, WorkerMetrics } from '../../src/observability/worker-metrics.js';
import { JobGauge } from '../../src/observability/job-gauge.js';

const WAITING = 'zkshard_items_waiting_on_zookeeper';

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

  it('writes a gauge by job as prom-client writes a Gauge (property: random sets, job names to escape)', async () => {
    const job = fc.constantFrom('a', 'b.c', 'we"ird', 'back\\slash', 'new\nline');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(job, fc.integer({ min: -5, max: 1e6 })), { maxLength: 30 }), async (sets) => {
        const registry = new Registry();
        const reference = new Gauge({ ...ASSIGNMENT_GENERATION, labelNames: ['zkshard_job'], registers: [registry] });
        const ours = new JobGauge(ASSIGNMENT_GENERATION);
        for (const [j, v] of sets) {
          reference.set({ zkshard_job: j }, v);
          ours.set(j, v);
        }
        expect(ours.text()).toBe((await registry.metrics()).trim());
      }),
      { numRuns: 200 },
    );
  });

  it('reads the items owned, running and stalled by job from its source at each scrape', async () => {
    const metrics = new WorkerMetrics();
    let owned: Array<[string, number]> = [['a', 2], ['b', 0]];
    metrics.bind({ isLeader: () => false, ownedCounts: () => owned, runningCounts: () => [['a', 2], ['b', 1]], stalled: () => ['a#1'] });
    metrics.onAssignment('a', 7);
    let text = await metrics.text();
    expect(sample(text, `${ITEMS_OWNED.name}{zkshard_job="a"}`)).toBe(2);
    expect(sample(text, `${ITEMS_OWNED.name}{zkshard_job="b"}`)).toBe(0);
    expect(sample(text, `${ITEMS_RUNNING.name}{zkshard_job="a"}`)).toBe(2);
    expect(sample(text, `${ITEMS_RUNNING.name}{zkshard_job="b"}`)).toBe(1);
    expect(sample(text, `${ITEMS_STALLED.name}{zkshard_job="a"}`)).toBe(1);
    expect(sample(text, `${ASSIGNMENT_GENERATION.name}{zkshard_job="a"}`)).toBe(7);
    // No source of ledger waits: both phases read 0.
    expect(sample(text, `${WAITING}{phase="begin"}`)).toBe(0);
    expect(sample(text, `${WAITING}{phase="release"}`)).toBe(0);
    owned = [['a', 1]];
    text = await metrics.text();
    expect(sample(text, `${ITEMS_OWNED.name}{zkshard_job="a"}`)).toBe(1);
    expect(sample(text, `${ITEMS_OWNED.name}{zkshard_job="b"}`)).toBeUndefined(); // gone from the worker, gone from the scrape
  });

  it('reads the items waiting on ZooKeeper, by phase, from its source at each scrape', async () => {
    const metrics = new WorkerMetrics();
    let waits = { begin: 10_000, release: 7_000 };
    metrics.bind({ isLeader: () => false, ownedCounts: () => [], runningCounts: () => [], ledgerWaits: () => waits });
    let text = await metrics.text();
    expect(sample(text, `${WAITING}{phase="begin"}`)).toBe(10_000);
    expect(sample(text, `${WAITING}{phase="release"}`)).toBe(7_000);
    waits = { begin: 0, release: 3 };
    text = await metrics.text();
    expect(sample(text, `${WAITING}{phase="begin"}`)).toBe(0);
    expect(sample(text, `${WAITING}{phase="release"}`)).toBe(3);
  });
});
