/**
 * `npm run simulate -- [--seeds N] [--seed S] [--active LO-HI] [--trace] [--logs]`: runs the
 * deterministic fleet simulation for seeds S, S+1, … S+N-1 (default 100 seeds from 1) and reports
 * every seed that broke an invariant, with its trace tail. `--seed S --trace` replays one seed
 * exactly and prints its whole trace (`--logs`: with the workers' log lines). `--active LO-HI`:
 * scenarios with LO..HI ms of faults (default 20000-40000; `npm test` uses 10000-20000). Exit 1 when
 * an invariant was broken, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { runFleetSimulation } from './fleet-simulation.js';
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

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ options: { seeds: { type: 'string' }, seed: { type: 'string' }, active: { type: 'string' }, trace: { type: 'boolean', default: false }, logs: { type: 'boolean', default: false } } });
  } catch (err) {
    process.stderr.write(`simulate: ${(err as Error).message}\n`);
    process.exit(EXIT.USAGE);
  }
  const { values } = parsed;
  const first = count('seed', values.seed, 1, 0);
  const seeds = count('seeds', values.seeds, values.seed !== undefined && values.trace ? 1 : 100, 1);
  if (values.trace && seeds !== 1) {
    process.stderr.write('simulate: --trace replays one seed: give --seed S without --seeds (or --seeds 1)\n');
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
  let failed = 0;
  let runs = 0;
  let virtualMs = 0;
  for (let s = first; s < first + seeds; s++) {
    let result = await runFleetSimulation(s >>> 0, { scenario, logs: values.logs, trace: values.trace });
    runs += result.stats.runs;
    virtualMs += result.stats.virtualMs;
    if (values.trace) process.stdout.write(`${result.trace.toString()}\n`);
    if (result.violations.length > 0) {
      failed++;
      if (!values.trace) result = await runFleetSimulation(s >>> 0, { scenario, logs: values.logs });
      process.stdout.write(`${formatFailure(result)}\n\n`);
    }
    const done = s - first + 1;
    if (!values.trace && done % 1000 === 0) process.stderr.write(`simulate: ${done}/${seeds} seeds, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `simulate: ${seeds} seed(s) from ${first}: ${failed} failed; ${runs} handler runs over ${(virtualMs / 3_600_000).toFixed(1)} h of virtual time in ${seconds.toFixed(1)} s (${(seeds / seconds).toFixed(1)} seeds/s)\n`,
  );
  process.exit(failed > 0 ? EXIT.FAILED : EXIT.OK);
}

void main();
