import { measureFireWindow } from '../lib/fleet-fire-window.js';
import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { LATENESS_P99_TARGET_MS, type FireWindowFigures } from '../lib/fire-tally.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { ms } from '../lib/stats.js';
import { benchJobs } from './lateness.js';

/** One load shape that broke Dkron, as reported in its issues. */
export interface DkronShape {
  name: string;
  /** What happened to Dkron under it (issue). */
  dkron: string;
  jobs: number;
  /** Every job fires every `periodS` seconds, all at the same instants. */
  periodS: number;
  workers: number;
  /** Measured window: this many instants of the schedule. */
  instants: number;
}

export interface DkronShapeFigures extends DkronShape, FireWindowFigures {
  /** From starting the workers until every job was owned, ms (NaN: not within the timeout). */
  startupMs: number;
}

const SHAPES: readonly DkronShape[] = [
  { name: '800 jobs every 10 s', dkron: 'unresponsive at 600–800 jobs every 10 s on 3 nodes (dkron #1839)', jobs: 800, periodS: 10, workers: 3, instants: 6 },
  { name: '1,000 jobs every 5 s', dkron: 'leader crashes at 1,000 jobs every 5 s on 3 × 8-core nodes (dkron #1828)', jobs: 1000, periodS: 5, workers: 3, instants: 12 },
  { name: '5,000 jobs due at one instant', dkron: 'nothing fires at 4,500–5,000 jobs due at one instant (dkron #1177)', jobs: 5000, periodS: 30, workers: 3, instants: 2 },
];

const OWNED_TIMEOUT_MS = 240_000;

/** Runs one shape on a fresh ZooKeeper: start, wait until every job is owned, then measure `instants` whole instants after the next one. */
export async function measureShape(ctx: ScenarioContext, shape: DkronShape): Promise<DkronShapeFigures> {
  const periodMs = shape.periodS * 1000;
  // One item a job (a Dkron job is not sharded), all jobs due at the same instants.
  const jobs = benchJobs(shape.jobs, 1, `*/${shape.periodS} * * * * *`);
  return withBenchFleet(ctx, `dkron-${shape.jobs}-${shape.periodS}s`, { jobs, workers: shape.workers }, async ({ fleet, dir }) => {
    const startupMs = await startFleet(ctx, fleet, OWNED_TIMEOUT_MS, { measureAnyway: true });
    // Skip the first instant after start-up (takeovers may record it as missed), then measure.
    const from = (Math.floor(Date.now() / periodMs) + 2) * periodMs;
    const to = from + shape.instants * periodMs;
    ctx.log(`${shape.name} on ${shape.workers} workers: owned after ${ms(startupMs)} ms; measuring ${shape.instants} instants from ${new Date(from).toISOString()}`);
    const figures = await measureFireWindow(fleet, dir, { from, to, perInstant: shape.jobs, periodMs, graceMs: 2000 }, ctx.signal);
    return { ...shape, ...figures, startupMs };
  });
}

/** The load shapes Dkron's users reported it failing under, on our fleet of 3 workers. */
export const dkronShapes: Scenario = {
  name: 'dkron-shapes',
  summary: "Dkron's failure shapes: 800 jobs every 10 s, 1,000 jobs every 5 s, 5,000 jobs due at one instant (3 workers, 1 item a job)",
  async run(ctx): Promise<ScenarioResult> {
    const shapes = ctx.quick ? SHAPES.map((s) => ({ ...s, instants: Math.min(s.instants, 2) })) : SHAPES;
    const figures: DkronShapeFigures[] = [];
    for (const shape of shapes) {
      if (ctx.signal.aborted) break;
      const f = await measureShape(ctx, shape);
      ctx.log(`${shape.name}: ${f.runs} of ${f.expected} ran; p99 ${ms(f.lateness.p99)} max ${ms(f.lateness.max)} ms; ${f.duplicates} duplicates, ${f.misses} misses`);
      figures.push(f);
    }
    return {
      scenario: 'dkron-shapes',
      params: { shapes, handler: 'no-op (records entry time)', itemsPerJob: 1 },
      tables: [
        {
          title: "Dkron's failure shapes on zkshard: handler entry − scheduled fire (ms), every fire of the measured instants",
          columns: ['shape', 'Dkron', 'workers', 'all owned after', 'instants', 'fires', 'ran', 'p50', 'p99', 'p99.9', 'max', 'duplicates', 'misses', 'max RSS'],
          rows: figures.map((f) => [
            f.name,
            f.dkron,
            f.workers,
            Number.isFinite(f.startupMs) ? `${(f.startupMs / 1000).toFixed(1)} s` : 'never',
            f.instants,
            f.expected,
            f.runs,
            ms(f.lateness.p50),
            ms(f.lateness.p99),
            ms(f.lateness.p999),
            ms(f.lateness.max),
            f.duplicates,
            f.misses,
            `${f.maxRssMb} MB`,
          ]),
        },
      ],
      targets: figures.flatMap((f) => [
        { what: `${f.name}: misses`, target: '0', measured: String(f.misses), met: f.misses === 0 },
        { what: `${f.name}: duplicates`, target: '0', measured: String(f.duplicates), met: f.duplicates === 0 },
        { what: `${f.name}: p99 lateness`, target: `≤ ${LATENESS_P99_TARGET_MS} ms`, measured: `${ms(f.lateness.p99)} ms`, met: f.lateness.p99 <= LATENESS_P99_TARGET_MS },
      ]),
      data: { figures },
      notes: [`The lateness target (p99 ≤ ${LATENESS_P99_TARGET_MS} ms) is PRODUCT.md §5's for 1,000 jobs × 8 items every second; these shapes carry less load per second but put every fire of a period on one instant.`],
    };
  },
};
