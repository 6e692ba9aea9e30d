import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { parseRunLine } from '../lib/run-records.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { workerMetrics } from '../lib/worker-metric.js';
import { memoryFlat, MemoryTrend, type WorkerMemoryTrend } from '../lib/memory-trend.js';
import { rssMb } from '../lib/process-memory.js';
import { benchJobs, waitForCompleteSeconds } from './lateness.js';
import { LATENESS_P99_TARGET_MS, LATENESS_P999_TARGET_MS } from '../lib/fire-tally.js';

export interface SoakOptions {
  jobs: number;
  items: number;
  workers: number;
  durationMs: number;
}

/** What a soak saw, from the handlers' own records (one line per handler entry). */
export interface SoakFigures extends SoakOptions {
  /** From starting the workers (all started together) until every item was owned, ms. */
  startupMs: number;
  /** From starting the workers until the first of the complete seconds the window starts with, ms. */
  steadyMs: number;
  /** Fires due in the window (every item, every second). */
  expected: number;
  /** Handler entries for fires in the window. */
  runs: number;
  /** Runs of a fire beyond its first. */
  duplicates: number;
  /** Fires due in the window that no handler entered. */
  misses: number;
  /** Items that missed at least one second of the window. */
  itemsWithMisses: number;
  /** The longest run of consecutive seconds one item went without a run (0: none missed). */
  longestGapS: number;
  lateness: Summary;
  /** Largest `zkshard_items_stalled` any worker reported while the window ran (polled every 5 s). */
  maxStalled: number;
  /** How many `/readyz` polls answered anything but 200 during the window. */
  notReady: number;
  /** Each worker's RSS (sampled every second) and heap (every 5 s), the window's start against its end. */
  memory: WorkerMemoryTrend[];
  /** Each worker's RSS through the window: [ms after its start, MB], one a second. */
  rssSeries: Record<string, [number, number][]>;
  /** Per second of the window (by fire time): the latest entry, ms, and how many entries were later than the p99 target (5 ms) and the p99.9 target (20 ms). */
  bySecond: { maxMs: number[]; over5Ms: number[]; over20Ms: number[] };
}

/** How often the workers' `/metrics` and `/readyz` are read during the window. */
const POLL_MS = 5000;
/** How often the workers' RSS is read (from /proc: nothing asked of the workers). */
const RSS_EVERY_MS = 1000;
/** How long a fleet may take until every item is owned. */
const OWNED_TIMEOUT_MS = 240_000;

/**
 * The endurance check: `jobs` × `items` every-second fires on `workers` worker processes
 * started together, then a `durationMs` window in which every item must run every second —
 * counted from the handlers' own entry records, not from what the workers say of themselves —
 * while the workers' own stall detector (`zkshard_items_stalled`, `/readyz`) is watched.
 */
export async function soakFleet(ctx: ScenarioContext, o: SoakOptions): Promise<SoakFigures> {
  return withBenchFleet(ctx, `soak-${o.jobs}`, { jobs: benchJobs(o.jobs, o.items), workers: o.workers, http: true }, async ({ fleet, dir }) => {
    const t0 = Date.now();
    const startupMs = await startFleet(ctx, fleet, OWNED_TIMEOUT_MS);
    ctx.log(`${o.jobs} jobs × ${o.items} items on ${o.workers} workers: all owned after ${ms(startupMs)} ms`);
    let from: number;
    try {
      from = await waitForCompleteSeconds(dir, o.jobs * o.items, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      // Never steady: measure anyway, from the next whole second (the misses will show it).
      ctx.log(`${(err as Error).message}; measuring anyway`);
      from = Math.ceil(Date.now() / 1000) * 1000;
    }
    const to = from + o.durationMs;
    ctx.log(`window: every fire from ${new Date(from).toISOString()} for ${o.durationMs / 1000} s`);
    let maxStalled = 0;
    let notReady = 0;
    const memory = new MemoryTrend();
    let nextPoll = 0;
    while (Date.now() < to + 2500 && !ctx.signal.aborted) {
      const now = Date.now();
      for (const id of fleet.ids) memory.addRss(id, now, rssMb(fleet.pid(id)!));
      if (now >= nextPoll) {
        nextPoll = now + POLL_MS;
        for (const id of fleet.ids) {
          const port = fleet.httpPort(id)!;
          const m = await workerMetrics(port, ['nodejs_heap_size_used_bytes', 'zkshard_items_stalled']);
          memory.addHeap(id, Date.now(), m.nodejs_heap_size_used_bytes / 2 ** 20);
          maxStalled = Math.max(maxStalled, m.zkshard_items_stalled);
          if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status !== 200) notReady++;
        }
      }
      await sleepUnlessAborted(Math.max(0, now + RSS_EVERY_MS - Date.now()), ctx.signal);
    }
    await fleet.close();
    const tally = await tallyWindow(dir, o, from, to);
    const rssSeries = Object.fromEntries(fleet.ids.map((id) => [id, memory.rssSeries(id, from, to)]));
    return { ...o, startupMs, steadyMs: from - t0, maxStalled, notReady, memory: memory.summarize(from, to), rssSeries, ...tally };
  });
}

/**
 * Reads the handlers' records line by line (millions of them: nothing but a bitmap per item and
 * the lateness sample is kept) and counts, for fires in [from, to), runs, duplicates, misses, the
 * items with a miss and the longest gap.
 */
async function tallyWindow(dir: string, o: SoakOptions, from: number, to: number): Promise<Omit<SoakFigures, keyof SoakOptions | 'startupMs' | 'steadyMs' | 'maxStalled' | 'notReady' | 'memory' | 'rssSeries'>> {
  const seconds = Math.round((to - from) / 1000);
  const seen = new Map<string, Uint8Array>();
  const lateness = new Float64Array(o.jobs * o.items * seconds * 2);
  const maxMs = new Array<number>(seconds).fill(0);
  const over5Ms = new Array<number>(seconds).fill(0);
  const over20Ms = new Array<number>(seconds).fill(0);
  let runs = 0;
  let duplicates = 0;
  for (const f of readdirSync(dir).filter((n) => n.startsWith('runs-') && n.endsWith('.txt'))) {
    for await (const line of createInterface({ input: createReadStream(join(dir, f)), crlfDelay: Infinity })) {
      const r = parseRunLine(line);
      if (!r || r.fire < from || r.fire >= to) continue;
      const key = `${r.job} ${r.item}`;
      let bits = seen.get(key);
      if (!bits) seen.set(key, (bits = new Uint8Array(seconds)));
      const s = Math.round((r.fire - from) / 1000);
      if (bits[s]) duplicates++;
      bits[s] = 1;
      const late = r.entry - r.fire;
      if (runs < lateness.length) lateness[runs] = late;
      runs++;
      maxMs[s] = Math.max(maxMs[s]!, late);
      if (late > LATENESS_P99_TARGET_MS) over5Ms[s]!++;
      if (late > LATENESS_P999_TARGET_MS) over20Ms[s]!++;
    }
  }
  let misses = 0;
  let itemsWithMisses = 0;
  let longestGapS = 0;
  for (const job of benchJobs(o.jobs, o.items)) {
    for (let item = 0; item < o.items; item++) {
      const bits = seen.get(`${job.name} ${item}`);
      let gap = 0;
      let missed = 0;
      for (let s = 0; s < seconds; s++) {
        if (bits?.[s]) gap = 0;
        else {
          missed++;
          longestGapS = Math.max(longestGapS, ++gap);
        }
      }
      misses += missed;
      if (missed > 0) itemsWithMisses++;
    }
  }
  return { expected: o.jobs * o.items * seconds, runs, duplicates, misses, itemsWithMisses, longestGapS, lateness: summarize(lateness.subarray(0, Math.min(runs, lateness.length))), bySecond: { maxMs: maxMs.map((m) => Math.round(m * 100) / 100), over5Ms, over20Ms } };
}

/** Scenario: every item fires every second for 10 minutes at 1,000 jobs × 8 items on 4 workers. */
export const soak: Scenario = {
  name: 'soak',
  summary: 'endurance: 1,000 jobs × 8 items every second on 4 workers started together, every item must run every second for 10 minutes (handlers\' own records)',
  async run(ctx): Promise<ScenarioResult> {
    const o: SoakOptions = ctx.quick ? { jobs: 100, items: 8, workers: 4, durationMs: 20_000 } : { jobs: 1000, items: 8, workers: 4, durationMs: 600_000 };
    const f = await soakFleet(ctx, o);
    const spanMs = f.memory[0]?.spanMs ?? 0;
    const span = spanMs >= 60_000 ? `${Math.round(spanMs / 6000) / 10} min` : `${Math.round(spanMs / 1000)} s`;
    ctx.log(`${f.runs} runs of ${f.expected} fires: ${f.misses} misses (${f.itemsWithMisses} items, longest gap ${f.longestGapS} s), ${f.duplicates} duplicates, stalled items at most ${f.maxStalled}, p99 ${ms(f.lateness.p99)} ms`);
    return {
      scenario: 'soak',
      params: { ...o, cron: '* * * * * *', handler: 'no-op (records entry time)', pollMs: POLL_MS, rssEveryMs: RSS_EVERY_MS },
      tables: [
        {
          title: 'Every item, every second: the handlers\' own records over the window',
          columns: ['jobs × items', 'workers', 'all owned after', 'window from', 'window', 'fires due', 'runs', 'misses', 'items with a miss', 'longest gap', 'duplicates', 'max stalled', 'not ready', 'p50', 'p99', 'p99.9', 'max'],
          rows: [
            [
              `${f.jobs} × ${f.items}`,
              f.workers,
              `${(f.startupMs / 1000).toFixed(1)} s`,
              `${(f.steadyMs / 1000).toFixed(1)} s`,
              `${f.durationMs / 1000} s`,
              f.expected,
              f.runs,
              f.misses,
              f.itemsWithMisses,
              `${f.longestGapS} s`,
              f.duplicates,
              f.maxStalled,
              f.notReady,
              ms(f.lateness.p50),
              ms(f.lateness.p99),
              ms(f.lateness.p999),
              ms(f.lateness.max),
            ],
          ],
        },
        {
          title: `Worker memory over the window (RSS every second, heap every ${POLL_MS / 1000} s): its first ${span} against its last`,
          columns: ['worker', 'RSS, first span', 'RSS, last span', 'growth over the window', 'slope', 'max RSS, first span', 'max RSS, last span', 'max RSS', 'heap used, first span', 'heap used, last span', 'samples'],
          rows: f.memory.map((m) => [m.worker, `${m.firstRssMb} MB`, `${m.lastRssMb} MB`, `${m.growthMb} MB`, `${m.slopeMbPerMin} MB/min`, `${m.firstMaxRssMb} MB`, `${m.lastMaxRssMb} MB`, `${m.maxRssMb} MB`, `${m.firstHeapMb} MB`, `${m.lastHeapMb} MB`, m.samples]),
        },
        {
          title: 'The seconds with the latest entries (by fire time)',
          columns: ['second of the window', 'latest entry', `entries over ${LATENESS_P99_TARGET_MS} ms`, `entries over ${LATENESS_P999_TARGET_MS} ms`],
          rows: latestSeconds(f.bySecond, 10).map((s) => [s, ms(f.bySecond.maxMs[s]!), f.bySecond.over5Ms[s]!, f.bySecond.over20Ms[s]!]),
        },
      ],
      targets: [
        { what: 'fires not run in the window', target: '0', measured: String(f.misses), met: f.misses === 0 },
        { what: 'runs of one fire beyond the first', target: '0', measured: String(f.duplicates), met: f.duplicates === 0 },
        { what: 'items the workers reported stalled', target: '0', measured: String(f.maxStalled), met: f.maxStalled === 0 },
        {
          what: `worker memory flat over the window (mean RSS of its first ${span} against its last, scaled to the window: grown by at most 10 % or 10 MB)`,
          target: 'flat',
          measured: f.memory.map((m) => `${m.firstRssMb} → ${m.lastRssMb} MB (${m.growthMb >= 0 ? '+' : ''}${m.growthMb})`).join(', '),
          met: memoryFlat(f.memory),
        },
        { what: `worker RSS, ${f.jobs.toLocaleString('en')} jobs × ${f.items} items firing (PRODUCT.md §5: at 1,000 jobs)`, target: '≤ 100 MB', measured: `${Math.max(0, ...f.memory.map((m) => m.maxRssMb))} MB`, met: f.memory.length > 0 && f.memory.every((m) => m.maxRssMb <= 100) },
      ],
      data: { figures: f },
      notes: ['The window starts at the first of three consecutive seconds whose fires all ran (a fleet that just started first takes its items over); "all owned after" and "window from" are counted from starting the workers.'],
    };
  },
};

/** The `n` seconds whose latest entry was latest, latest first. */
function latestSeconds(bySecond: SoakFigures['bySecond'], n: number): number[] {
  return bySecond.maxMs
    .map((late, s) => [late, s] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, n)
    .map(([, s]) => s);
}
