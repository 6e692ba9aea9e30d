import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { rssMb } from '../lib/process-memory.js';
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
  samples: number;
}

/** `nodejs_heap_size_used_bytes` from a worker's /metrics, in MB. */
async function heapUsedMb(port: number): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
    return m ? Number(m[1]) / 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a fleet, waits until it is steady (and, firing, until every fire runs), samples RSS and heap once a second. */
export async function measureMemory(ctx: ScenarioContext, o: { label: string; jobs: number; items: number; workers: number; firing: boolean; sampleMs: number }): Promise<MemoryPhase> {
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
    const end = Date.now() + o.sampleMs;
    while (Date.now() < end && !ctx.signal.aborted) {
      const rss = fleet.ids.map((id) => rssMb(fleet.pid(id)!) ?? 0);
      const heaps = await Promise.all(fleet.ids.map((id) => heapUsedMb(fleet.httpPort(id)!)));
      maxRss = Math.max(maxRss, ...rss);
      maxHeap = Math.max(maxHeap, ...heaps.map((h) => h ?? 0));
      rssSum += rss.reduce((a, b) => a + b, 0) / rss.length;
      samples++;
      await sleepUnlessAborted(1000, ctx.signal);
    }
    return { label: o.label, jobs: o.jobs, items: o.items, workers: o.workers, firing: o.firing, maxRssMb: Math.round(maxRss), meanRssMb: Math.round(rssSum / Math.max(1, samples)), maxHeapUsedMb: Math.round(maxHeap), samples };
  });
}

/** Scenario 6: worker RSS and heap with 1,000 jobs, idle and firing every second. */
export const memory: Scenario = {
  name: 'memory',
  summary: 'worker RSS and V8 heap with 1,000 jobs × 8 items: idle (1 and 4 workers) and firing every second (4 workers)',
  async run(ctx): Promise<ScenarioResult> {
    const sampleMs = ctx.quick ? 5000 : 30_000;
    const phases = [
      { label: 'idle, 1 worker (all 8,000 items)', jobs: 1000, items: 8, workers: 1, firing: false },
      { label: 'idle, 4 workers', jobs: 1000, items: 8, workers: 4, firing: false },
      { label: 'firing every second, 4 workers (8,000 runs/s)', jobs: 1000, items: 8, workers: 4, firing: true },
    ];
    const results: MemoryPhase[] = [];
    for (const p of phases) {
      if (ctx.signal.aborted) break;
      const r = await measureMemory(ctx, { ...p, sampleMs });
      ctx.log(`${p.label}: max RSS ${r.maxRssMb} MB, max heap used ${r.maxHeapUsedMb} MB`);
      results.push(r);
    }
    const worst = results.reduce((a, r) => Math.max(a, r.maxRssMb), 0);
    return {
      scenario: 'memory',
      params: { sampleMs, jobs: 1000, items: 8 },
      tables: [
        {
          title: 'Worker memory with 1,000 jobs × 8 items (sampled once a second once the fleet is steady)',
          columns: ['phase', 'max RSS', 'mean RSS', 'max heap used', 'samples'],
          rows: results.map((r) => [r.label, `${r.maxRssMb} MB`, `${r.meanRssMb} MB`, `${r.maxHeapUsedMb} MB`, r.samples]),
        },
      ],
      targets: results.length ? [{ what: 'worker RSS with 1,000 jobs (worst phase)', target: '≤ 100 MB', measured: `${worst} MB`, met: worst <= 100 }] : [],
      data: { phases: results },
      notes: [],
    };
  },
};
