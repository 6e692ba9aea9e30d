import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { residentMb } from '../lib/process-memory.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { benchJobs, waitForCompleteSeconds } from './lateness.js';

/** A cron that does not fire during the bench (1 January, midnight). */
const IDLE_CRON = '0 0 0 1 1 *';

export interface MemoryPhase {
  label: string;
  jobs: number;
  items: number;
  workers: number;
  firing: boolean;
  /** Largest RSS of any worker over the samples, MB. */
  maxRssMb: number;
  /** Mean over the samples of the workers' mean RSS, MB. */
  meanRssMb: number;
  /** Largest V8 heap used of any worker (`nodejs_heap_size_used_bytes`), MB. */
  maxHeapUsedMb: number;
  /**
   * Idle phases: the largest RSS of any worker over the last SETTLED_WINDOW_MS of a longer wait
   * (`settleMs` after steady): once V8's memory reducer has collected the garbage of the start-up
   * burst (it runs when the worker has been quiet for a while). Undefined for firing phases.
   */
  settledRssMb?: number;
  /** Idle phases: every worker's RSS (MB) every SETTLE_SERIES_EVERY_S seconds of the wait, to see when each settled. */
  settleSeries?: Array<{ afterSteadyS: number; rssMb: number[] }>;
  /** Where the mean RSS goes (means over workers and samples, MB): see `MemoryShares`. */
  shares: MemoryShares;
  samples: number;
}

/**
 * A worker's resident memory by where it goes, MB: `file`, pages of the node binary and its
 * libraries; of the anonymous rest, the V8 heap as committed (`heapTotal`, of which `heapUsed`
 * holds objects, live or not yet collected; `newSpace` is the young generation's share), the
 * memory V8 counts outside its heap (`external`: Buffers), and `otherAnon`, what is left (malloc
 * arenas, thread stacks, code outside the heap).
 */
export interface MemoryShares {
  file: number;
  anon: number;
  heapTotal: number;
  heapUsed: number;
  newSpace: number;
  external: number;
  otherAnon: number;
}

/** A worker's V8 heap (committed, used, young generation) and external memory from one read of its /metrics, MB; undefined when it does not answer. */
async function heapMb(port: number): Promise<{ total: number; used: number; young: number; external: number } | undefined> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.text())
    .catch(() => '');
  const value = (series: string): number => {
    const at = text.indexOf(`\n${series} `);
    return at < 0 ? Number.NaN : Number.parseFloat(text.slice(at + series.length + 2)) / 2 ** 20;
  };
  const heap = { total: value('nodejs_heap_size_total_bytes'), used: value('nodejs_heap_size_used_bytes'), young: value('nodejs_heap_space_size_total_bytes{space="new"}'), external: value('nodejs_external_memory_bytes') };
  return Object.values(heap).every(Number.isFinite) ? heap : undefined;
}

/** How long the settled RSS of an idle phase is taken over (the end of its `settleMs`). */
const SETTLED_WINDOW_MS = 20_000;

/** How often an idle phase's wait keeps every worker's RSS in its series (`settleSeries`), seconds. */
const SETTLE_SERIES_EVERY_S = 5;

/**
 * How long after steady an idle phase's settled RSS is read (its last SETTLED_WINDOW_MS). V8's
 * memory reducer collects an idle worker's start-up garbage, and shrinks its young generation, when
 * it finds the allocation rate low or by its watchdog, 100 s after the last full collection. In
 * idle workers it came by the watchdog, 100–108 s after their start-up's full collections (2026-12-07
 * 09:22: four idle workers under 100 MB 100–108 s after steady, at 87–91 MB from 150 s; with 2
 * minutes, one of four had not been reduced in the full run of 04:18).
 */
const IDLE_SETTLE_MS = 180_000;

/**
 * Starts a fleet, waits until it is steady (and, firing, until every fire runs), samples RSS and
 * heap once a second for `sampleMs`; an idle phase with `settleMs` then goes on sampling RSS until
 * that long after steady (`settledRssMb`).
 */
export async function measureMemory(ctx: ScenarioContext, o: { label: string; jobs: number; items: number; workers: number; firing: boolean; sampleMs: number; settleMs?: number }): Promise<MemoryPhase> {
  const tag = `memory-${o.workers}-${o.firing ? 'firing' : 'idle'}`;
  const jobs = benchJobs(o.jobs, o.items, o.firing ? '* * * * * *' : IDLE_CRON);
  return withBenchFleet(ctx, tag, { jobs, workers: o.workers, http: true }, async ({ fleet, dir }) => {
    await startFleet(ctx, fleet, 60_000 + o.jobs * o.items * 5);
    if (o.firing) await waitForCompleteSeconds(dir, o.jobs * o.items, ctx.signal);
    ctx.log(`${o.label}: steady; sampling for ${o.sampleMs / 1000} s`);
    let maxRss = 0;
    let maxHeap = 0;
    let rssSum = 0;
    let samples = 0;
    const sums: MemoryShares = { file: 0, anon: 0, heapTotal: 0, heapUsed: 0, newSpace: 0, external: 0, otherAnon: 0 };
    let shareSamples = 0;
    const steadyAt = Date.now();
    const end = steadyAt + o.sampleMs;
    while (Date.now() < end && !ctx.signal.aborted) {
      const resident = fleet.ids.map((id) => residentMb(fleet.pid(id)!));
      const heaps = await Promise.all(fleet.ids.map((id) => heapMb(fleet.httpPort(id)!)));
      const rss = resident.map((r) => r?.rss ?? 0);
      maxRss = Math.max(maxRss, ...rss);
      maxHeap = Math.max(maxHeap, ...heaps.map((h) => h?.used ?? 0));
      rssSum += rss.reduce((a, b) => a + b, 0) / rss.length;
      samples++;
      resident.forEach((r, k) => {
        const h = heaps[k];
        if (!r || !h) return; // gone, or its /metrics did not answer
        sums.file += r.file;
        sums.anon += r.anon;
        sums.heapTotal += h.total;
        sums.heapUsed += h.used;
        sums.newSpace += h.young;
        sums.external += h.external;
        sums.otherAnon += r.anon - h.total - h.external;
        shareSamples++;
      });
      await sleepUnlessAborted(1000, ctx.signal);
    }
    const shares = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, Math.round(v / Math.max(1, shareSamples))])) as unknown as MemoryShares;
    const phase: MemoryPhase = { label: o.label, jobs: o.jobs, items: o.items, workers: o.workers, firing: o.firing, maxRssMb: Math.round(maxRss), meanRssMb: Math.round(rssSum / Math.max(1, samples)), maxHeapUsedMb: Math.round(maxHeap), shares, samples };
    if (!o.firing && o.settleMs !== undefined) {
      const settleEnd = steadyAt + o.settleMs;
      let settled = 0;
      phase.settleSeries = [];
      for (let second = 0; Date.now() < settleEnd && !ctx.signal.aborted; second++) {
        const rss = fleet.ids.map((id) => residentMb(fleet.pid(id)!)?.rss ?? 0);
        if (Date.now() >= settleEnd - SETTLED_WINDOW_MS) settled = Math.max(settled, ...rss);
        if (second % SETTLE_SERIES_EVERY_S === 0) phase.settleSeries.push({ afterSteadyS: Math.round((Date.now() - steadyAt) / 1000), rssMb: rss.map(Math.round) });
        await sleepUnlessAborted(1000, ctx.signal);
      }
      phase.settledRssMb = Math.round(settled);
      ctx.log(`${o.label}: settled RSS ${phase.settledRssMb} MB (${Math.round(o.settleMs / 1000)} s after steady)`);
    }
    return phase;
  });
}

/** Scenario 6: worker RSS and heap with 1,000 jobs, idle and firing every second. */
export const memory: Scenario = {
  name: 'memory',
  summary: 'worker RSS and V8 heap with 1,000 jobs × 8 items: idle (1 and 4 workers) and firing every second (4 workers)',
  async run(ctx): Promise<ScenarioResult> {
    const sampleMs = ctx.quick ? 5000 : 30_000;
    const settleMs = ctx.quick ? undefined : IDLE_SETTLE_MS;
    const phases = [
      { label: 'idle, 1 worker (all 8,000 items)', jobs: 1000, items: 8, workers: 1, firing: false },
      { label: 'idle, 4 workers', jobs: 1000, items: 8, workers: 4, firing: false },
      { label: 'firing every second, 4 workers (8,000 runs/s)', jobs: 1000, items: 8, workers: 4, firing: true },
    ];
    const results: MemoryPhase[] = [];
    for (const p of phases) {
      if (ctx.signal.aborted) break;
      const r = await measureMemory(ctx, { ...p, sampleMs, settleMs });
      ctx.log(`${p.label}: max RSS ${r.maxRssMb} MB, max heap used ${r.maxHeapUsedMb} MB`);
      results.push(r);
    }
    const worst = results.reduce((a, r) => Math.max(a, r.maxRssMb), 0);
    const settled = results.flatMap((r) => (r.settledRssMb === undefined ? [] : [r.settledRssMb]));
    const settledWorst = settled.length > 0 ? Math.max(...settled) : undefined;
    return {
      scenario: 'memory',
      params: { sampleMs, jobs: 1000, items: 8 },
      tables: [
        {
          title: 'Worker memory with 1,000 jobs × 8 items (sampled once a second once the fleet is steady)',
          columns: ['phase', 'max RSS', 'mean RSS', 'max heap used', 'samples', `settled RSS (idle: max over the last ${SETTLED_WINDOW_MS / 1000} s of ${IDLE_SETTLE_MS / 60_000} min)`],
          rows: results.map((r) => [r.label, `${r.maxRssMb} MB`, `${r.meanRssMb} MB`, `${r.maxHeapUsedMb} MB`, r.samples, r.settledRssMb === undefined ? '–' : `${r.settledRssMb} MB`]),
        },
        {
          title: 'Where a worker\'s RSS goes (MB, means over workers and samples): file-backed pages (the node binary), and of the anonymous rest the V8 heap as committed, what it holds, its young generation, Buffers, and the remainder',
          columns: ['phase', 'file-backed', 'anonymous', 'V8 heap committed', 'V8 heap used', 'young generation', 'external (Buffers)', 'other anonymous'],
          rows: results.map((r) => [r.label, r.shares.file, r.shares.anon, r.shares.heapTotal, r.shares.heapUsed, r.shares.newSpace, r.shares.external, r.shares.otherAnon]),
        },
      ],
      targets: [
        ...(results.length ? [{ what: 'worker RSS with 1,000 jobs (worst phase)', target: '≤ 100 MB', measured: `${worst} MB`, met: worst <= 100 }] : []),
        ...(settledWorst !== undefined ? [{ what: `idle worker RSS with 1,000 jobs once settled (worst idle phase, ${IDLE_SETTLE_MS / 60_000} min after steady)`, target: '≤ 100 MB', measured: `${settledWorst} MB`, met: settledWorst <= 100 }] : []),
      ],
      data: { phases: results },
      notes: [],
    };
  },
};
