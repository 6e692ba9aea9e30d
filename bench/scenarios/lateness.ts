import { availableParallelism } from 'node:os';
import { measureFireWindow } from '../lib/fleet-fire-window.js';
import { busyCores, machineCpuTicks } from '../lib/process-cpu.js';
import type { BenchFleetOptions, BenchJob } from '../lib/bench-fleet.js';
import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { LATE_ENTRY_MS, LATENESS_P99_TARGET_MS, LATENESS_P999_TARGET_MS, type FireWindowFigures } from '../lib/fire-tally.js';
import { RunTail } from '../lib/run-tail.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { ms } from '../lib/stats.js';
import type { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';

export interface LatenessOptions {
  jobs: number;
  items: number;
  workers: number;
  durationMs: number;
  /** V8's background threads per worker (`BenchFleetOptions.v8PoolSize`); unset: Node's default. */
  v8PoolSize?: number;
}

/** What one lateness run measured (fires scheduled inside the window only). */
export interface LatenessFigures extends LatenessOptions, FireWindowFigures {
  /** Time from starting the workers until every item was owned, ms (NaN: not within OWNED_TIMEOUT_MS). */
  startupMs: number;
  /** Time from starting the workers until the first of STEADY_SECONDS seconds whose fires all ran, ms (NaN: never, within STEADY_TIMEOUT_MS). */
  steadyMs: number;
  /** Cores of the machine busy on average over about the window (from just before it until its fires are counted) (every process: workers, ZooKeeper, PostgreSQL, the bench). */
  busyCores: number;
}

/** The window starts once this many consecutive seconds had every one of their fires run. */
export const STEADY_SECONDS = 3;
/** How long a fleet may take to get there. */
const STEADY_TIMEOUT_MS = 120_000;
/** How long a fleet may take until every item is owned. */
const OWNED_TIMEOUT_MS = 240_000;

/**
 * Waits until STEADY_SECONDS consecutive fire instants (`periodMs` apart: every second unless
 * told) each had all `perSecond` runs (a fleet that just started first takes over its items and
 * records the fires it missed meanwhile); resolves with the first of those instants (ms).
 */
export async function waitForCompleteSeconds(dir: string, perSecond: number, signal: AbortSignal, periodMs = 1000): Promise<number> {
  const tail = new RunTail(dir, false);
  const counts = new Map<number, number>();
  const deadline = Date.now() + STEADY_TIMEOUT_MS;
  while (Date.now() < deadline && !signal.aborted) {
    for (const r of tail.poll()) counts.set(r.fire, (counts.get(r.fire) ?? 0) + 1);
    // Instants at least 2 s old have all their runs recorded (entries are flushed every 200 ms).
    const settled = [...counts.keys()].filter((f) => f <= Date.now() - 2000).sort((a, b) => a - b);
    for (let i = 0; i + STEADY_SECONDS <= settled.length; i++) {
      const run = settled.slice(i, i + STEADY_SECONDS);
      if (run.every((f, k) => (counts.get(f) ?? 0) >= perSecond && (k === 0 || f - run[k - 1]! === periodMs))) return run[0]!;
    }
    await sleepUnlessAborted(500, signal);
  }
  throw new Error(`the fleet did not run every fire of ${STEADY_SECONDS} seconds in a row within ${STEADY_TIMEOUT_MS / 1000} s`);
}

/** Every-second jobs `j00000`.. with `items` items each. */
export function benchJobs(count: number, items: number, cron = '* * * * * *', sleepMs = 0): BenchJob[] {
  return Array.from({ length: count }, (_, i) => ({ name: `j${String(i).padStart(5, '0')}`, cron, shards: items, sleepMs }));
}

/**
 * Something a measurement does to the fleet's ZooKeeper during its window (from `from`, epoch ms);
 * it returns what undoes it, called when the window ends however it ends.
 */
export type DuringWindow = (zk: ZooKeeperServer, from: number) => () => void;

/**
 * Runs `jobs` × `items` every-second fires on `workers` worker processes against a fresh
 * ZooKeeper for `durationMs` and measures handler entry − scheduled fire for every fire in that
 * window, plus duplicates and misses (with `duringWindow` done to the server meanwhile).
 */
export async function measureLateness(ctx: ScenarioContext, o: LatenessOptions, more: Pick<BenchFleetOptions, 'history'> & { duringWindow?: DuringWindow } = {}): Promise<LatenessFigures> {
  const { duringWindow, ...fleetOptions } = more;
  const tag = o.v8PoolSize === undefined ? `lateness-${o.jobs}` : `lateness-${o.jobs}-pool${o.v8PoolSize}`;
  return withBenchFleet(ctx, tag, { jobs: benchJobs(o.jobs, o.items), workers: o.workers, v8PoolSize: o.v8PoolSize, ...fleetOptions }, async ({ zk, fleet, dir }) => {
    const t0 = Date.now();
    const startupMs = await startFleet(ctx, fleet, Math.min(60_000 + o.jobs * o.items * 5, OWNED_TIMEOUT_MS), { measureAnyway: true });
    ctx.log(`${o.jobs} jobs × ${o.items} items on ${o.workers} workers: all owned after ${ms(startupMs)} ms; waiting for ${STEADY_SECONDS} complete seconds in a row`);
    // (ms(NaN) prints "–": not all owned within OWNED_TIMEOUT_MS.)
    let steadyMs = Number.NaN;
    try {
      steadyMs = (await waitForCompleteSeconds(dir, o.jobs * o.items, ctx.signal)) - t0;
    } catch (err) {
      // An overloaded fleet never gets there: measure it anyway, the misses will show it.
      ctx.log(`${(err as Error).message}; measuring anyway`);
    }
    const from = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const to = from + o.durationMs;
    ctx.log(`measuring fires from ${new Date(from).toISOString()} for ${o.durationMs / 1000} s`);
    const cpu0 = machineCpuTicks();
    const undo = duringWindow?.(zk, from);
    let figures: FireWindowFigures;
    try {
      figures = await measureFireWindow(fleet, dir, { from, to, perInstant: o.jobs * o.items }, ctx.signal);
    } finally {
      undo?.();
    }
    const busy = busyCores(cpu0, machineCpuTicks(), availableParallelism());
    return { ...o, ...figures, startupMs, steadyMs, busyCores: busy };
  });
}

/** Scenario 1: fire lateness at 100, 1,000 and 10,000 jobs × 8 items on 4 worker processes. */
export const lateness: Scenario = {
  name: 'lateness',
  summary: 'fire lateness (handler entry − scheduled fire), duplicates, misses: 100 / 1,000 / 10,000 jobs × 8 items every second, 4 workers',
  async run(ctx): Promise<ScenarioResult> {
    const runs: LatenessOptions[] = ctx.quick
      ? [
          { jobs: 100, items: 8, workers: 4, durationMs: 10_000 },
          { jobs: 1000, items: 8, workers: 4, durationMs: 10_000 },
        ]
      : [
          { jobs: 100, items: 8, workers: 4, durationMs: 60_000 },
          { jobs: 1000, items: 8, workers: 4, durationMs: 60_000 },
          // Beside it, not instead: the workers started with one V8 background thread each (README, "Several workers on few cores").
          { jobs: 1000, items: 8, workers: 4, durationMs: 60_000, v8PoolSize: 1 },
          { jobs: 10_000, items: 8, workers: 4, durationMs: 30_000 },
        ];
    const figures: LatenessFigures[] = [];
    for (const o of runs) {
      if (ctx.signal.aborted) break;
      const f = await measureLateness(ctx, o);
      ctx.log(`${label(o)}: p50 ${ms(f.lateness.p50)} p99 ${ms(f.lateness.p99)} p99.9 ${ms(f.lateness.p999)} max ${ms(f.lateness.max)} ms; ${f.duplicates} duplicates, ${f.misses} misses`);
      figures.push(f);
    }
    // The targets are judged on Node's defaults; the run with one V8 thread per worker is reported beside it.
    const main = figures.find((f) => f.jobs === 1000 && f.v8PoolSize === undefined);
    return {
      scenario: 'lateness',
      params: { runs, cron: '* * * * * *', handler: 'no-op (records entry time)', v8PoolSize: 'Node\'s default (4) unless a run says otherwise' },
      tables: [
        {
          title: 'Fire lateness: handler entry − scheduled fire time (ms), every fire in the window',
          columns: ['jobs × items', 'workers', 'all owned after', 'steady after', 'window', 'runs/s', 'p50', 'p99', 'p99.9', 'max', 'duplicates', 'misses', 'max RSS', `CPU busy (cores of ${availableParallelism()})`],
          rows: figures.map((f) => [
            label(f),
            f.workers,
            Number.isFinite(f.startupMs) ? `${(f.startupMs / 1000).toFixed(1)} s` : 'never',
            Number.isFinite(f.steadyMs) ? `${(f.steadyMs / 1000).toFixed(1)} s` : 'never',
            `${f.durationMs / 1000} s`,
            Math.round(f.runs / (f.durationMs / 1000)),
            ms(f.lateness.p50),
            ms(f.lateness.p99),
            ms(f.lateness.p999),
            ms(f.lateness.max),
            f.duplicates,
            f.misses,
            `${f.maxRssMb} MB`,
            f.busyCores.toFixed(2),
          ]),
        },
        {
          title: 'Per worker and fire instant: how late its first handler was entered, and first to last handler (ms)',
          columns: ['jobs × items', 'workers', 'items per worker', 'first entry p50', 'first entry p99', 'first to last p50', 'first to last p99', 'first to last max', `entries over ${LATE_ENTRY_MS} ms`, '… of workers that started late', '… among entries begun on time'],
          rows: figures
            .filter((f) => f.entryTiming)
            .map((f) => {
              const t = f.entryTiming!;
              return [label(f), f.workers, Math.round((f.jobs * f.items) / f.workers), ms(t.firstEntry.p50), ms(t.firstEntry.p99), ms(t.span.p50), ms(t.span.p99), ms(t.span.max), t.lateEntries?.total ?? '–', t.lateEntries?.startedLate ?? '–', t.lateEntries?.duringEntries ?? '–'];
            }),
        },
        ...(main?.entryTiming?.latest
          ? [
              {
                title: `${main.jobs} × ${main.items}: the worker-instants with the latest entries (lateness of their first and last entry, ms)`,
                columns: ['fire instant', 'worker', 'first entry', 'last entry', 'entries', `over ${LATE_ENTRY_MS} ms`],
                rows: main.entryTiming.latest.map((w) => [w.fire.slice(11, 19), w.worker, ms(w.firstMs), ms(w.lastMs), w.entries, w.late]),
              },
            ]
          : []),
      ],
      targets: main
        ? [
            { what: 'p99 lateness at 1,000 jobs × 8 items, 4 workers', target: `≤ ${LATENESS_P99_TARGET_MS} ms`, measured: `${ms(main.lateness.p99)} ms`, met: main.lateness.p99 <= LATENESS_P99_TARGET_MS },
            { what: 'p99.9 lateness at 1,000 jobs × 8 items, 4 workers', target: `≤ ${LATENESS_P999_TARGET_MS} ms`, measured: `${ms(main.lateness.p999)} ms`, met: main.lateness.p999 <= LATENESS_P999_TARGET_MS },
            { what: 'duplicates', target: '0', measured: String(main.duplicates), met: main.duplicates === 0 },
            { what: 'misses', target: '0', measured: String(main.misses), met: main.misses === 0 },
          ]
        : [],
      data: { figures },
      notes: [],
    };
  },
};

/** A run's name in the tables: its size, and its V8 pool when not Node's default. */
function label(o: LatenessOptions): string {
  return `${o.jobs} × ${o.items}${o.v8PoolSize === undefined ? '' : ` (V8 pool ${o.v8PoolSize})`}`;
}
