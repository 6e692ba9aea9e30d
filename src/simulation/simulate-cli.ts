/**
 * `npm run simulate -- [--seeds N] [--seed S] [--active LO-HI] [--jobs J] [--trace] [--logs]`: runs
 * the deterministic fleet simulation for seeds S, S+1, … S+N-1 (default 100 seeds from 1) and
 * reports every seed that broke an invariant, with its trace tail. `--seed S --trace` replays one
 * seed exactly and prints its whole trace (`--logs`: with the workers' log lines). `--active LO-HI`:
 * scenarios with LO..HI ms of faults (default 20000-40000; `npm test` uses 10000-20000). `--jobs J`:
 * J worker threads take the seeds in turn (each seed is still one deterministic run). Exit 1 when an
 * invariant was broken, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runFleetSimulation, } from './fleet-simulation.js';
import type { ScenarioOptions } from './fleet-scenario.js';
import { formatFailure } from './fleet-report.js';
import { EXIT } from '../cli/exit-codes.js';

function count(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > 0xffffffff) {
    process.stderr.write(`simulate: --${name} must be an integer from ${min} to 4294967295, got ${JSON.stringify(value)}\n`);
    process.exit(EXIT.USAGE);
  }
  return n;
}

/** What one seed came to, as a thread reports it. */
interface SeedOutcome {
  seed: number;
  runs: number;
  virtualMs: number;
  /** Fires still pending at the end (after their item's frontier, behind runs still going): not lost, counted. */
  pending: number;
  /** The failure report (with a trace tail), when an invariant was broken. */
  failure?: string;
}

/** Runs one seed; a failing seed is run again (deterministically) with the trace tail kept for the report. */
async function runSeed(seed: number, scenario: ScenarioOptions | undefined, logs: boolean): Promise<SeedOutcome> {
  const result = await runFleetSimulation(seed >>> 0, { scenario, logs });
  const outcome: SeedOutcome = { seed, runs: result.stats.runs, virtualMs: result.stats.virtualMs, pending: result.pending.length };
  if (result.violations.length > 0) outcome.failure = formatFailure(await runFleetSimulation(seed >>> 0, { scenario, logs }));
  return outcome;
}

/** Inside a `--jobs` thread: takes the next seed from the shared counter until none is left. */
async function seedThread(): Promise<void> {
  const { next, first, last, scenario, logs } = workerData as { next: Int32Array; first: number; last: number; scenario?: ScenarioOptions; logs: boolean };
  for (;;) {
    const offset = Atomics.add(next, 0, 1);
    if (offset > last) break;
    parentPort!.postMessage(await runSeed(first + offset, scenario, logs));
  }
}

/** Runs the seeds first..first+count-1 on `jobs` threads (1: here), handing every outcome to `report`. */
async function runSeeds(first: number, count: number, jobs: number, scenario: ScenarioOptions | undefined, logs: boolean, report: (o: SeedOutcome) => void): Promise<void> {
  if (jobs === 1) {
    for (let s = first; s < first + count; s++) report(await runSeed(s, scenario, logs));
    return;
  }
  // Seeds are offsets from `first` in the counter (an Int32Array holds them for any seed up to 2^32).
  const next = new Int32Array(new SharedArrayBuffer(4));
  const threads = Array.from({ length: Math.min(jobs, count) }, () => new Worker(new URL(import.meta.url), { workerData: { next, first, last: count - 1, scenario, logs } }));
  await Promise.all(
    threads.map(
      (t) =>
        new Promise<void>((resolve, reject) => {
          t.on('message', (o: SeedOutcome) => report(o));
          t.on('error', reject);
          t.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`simulate: a seed thread exited with code ${code}`))));
        }),
    ),
  );
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { seeds: { type: 'string' }, seed: { type: 'string' }, active: { type: 'string' }, jobs: { type: 'string' }, trace: { type: 'boolean', default: false }, logs: { type: 'boolean', default: false } },
    });
  } catch (err) {
    process.stderr.write(`simulate: ${(err as Error).message}\n`);
    process.exit(EXIT.USAGE);
  }
  const { values } = parsed;
  const first = count('seed', values.seed, 1, 0);
  const seeds = count('seeds', values.seeds, values.seed !== undefined && values.trace ? 1 : 100, 1);
  const jobs = count('jobs', values.jobs, 1, 1);
  if (values.trace && seeds !== 1) {
    process.stderr.write('simulate: --trace replays one seed: give --seed S without --seeds (or --seeds 1)\n');
    process.exit(EXIT.USAGE);
  }
  if (first + seeds - 1 > 0xffffffff) {
    process.stderr.write(`simulate: seeds ${first}..${first + seeds - 1} go past 4294967295\n`);
    process.exit(EXIT.USAGE);
  }
  let activeMs: [number, number] | undefined;
  if (values.active !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(values.active);
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2]);
    if (!m || lo < 1000 || hi < lo || hi > 3_600_000) {
      process.stderr.write(`simulate: --active must be LO-HI in ms with 1000 <= LO <= HI <= 3600000, got ${JSON.stringify(values.active)}\n`);
      process.exit(EXIT.USAGE);
    }
    activeMs = [lo, hi];
  }
  const scenario = activeMs ? { activeMs } : undefined;
  const started = performance.now();
  if (values.trace) {
    const result = await runFleetSimulation(first >>> 0, { scenario, logs: values.logs, trace: true });
    process.stdout.write(`${result.trace.toString()}\n`);
    if (result.violations.length > 0) process.stdout.write(`${formatFailure(result)}\n\n`);
    // Not process.exit: it would cut a long trace still being written to a pipe.
    process.exitCode = result.violations.length > 0 ? EXIT.FAILED : EXIT.OK;
    return;
  }
  const failedSeeds: number[] = [];
  let done = 0;
  let runs = 0;
  let virtualMs = 0;
  let pending = 0;
  let pendingSeeds = 0;
  await runSeeds(first, seeds, jobs, scenario, values.logs, (o) => {
    done++;
    runs += o.runs;
    virtualMs += o.virtualMs;
    pending += o.pending;
    if (o.pending > 0) pendingSeeds++;
    if (o.failure !== undefined) {
      failedSeeds.push(o.seed);
      process.stdout.write(`${o.failure}\n\n`);
    }
    if (done % 1000 === 0) process.stderr.write(`simulate: ${done}/${seeds} seeds, ${failedSeeds.length} failed, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  });
  const seconds = (performance.now() - started) / 1000;
  const failedList = failedSeeds.length > 0 ? ` (seeds ${failedSeeds.sort((a, b) => a - b).join(', ')})` : '';
  process.stdout.write(
    `simulate: ${seeds} seed(s) from ${first} on ${jobs} thread(s): ${failedSeeds.length} failed${failedList}; ${runs} handler runs over ${(virtualMs / 3_600_000).toFixed(1)} h of virtual time (${pending} fire(s) of ${pendingSeeds} seed(s) still pending at the end) in ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} seeds/s)\n`,
  );
  process.exitCode = failedSeeds.length > 0 ? EXIT.FAILED : EXIT.OK;
}

if (isMainThread) void main();
else void seedThread();
