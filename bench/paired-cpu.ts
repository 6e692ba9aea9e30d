// node dist/bench/paired-cpu.js <rootA> <rootB> [--jobs N] [--workers N] [--windows N] [--window-ms N]
//
// Two builds side by side: the worker CPU each spends per fire, over the same windows. Each root is
// a checkout of zkshard with its own build (`npx tsc -p tsconfig.json`); both fleets (A started
// first) run the same jobs (every second, 8 items each) against one bench ZooKeeper started from
// root A. A window's figure moves by up to a third from run to run on a shared host; the ratio of
// the two fleets in the same window by a few percent. The fleet started second comes out a few
// percent cheaper whatever its build: run both orders (docs/BENCHMARKS.md, 2026-12-07, 17:06–).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { BenchCleanup } from './lib/bench-cleanup.js';
import { startBenchZooKeeper } from './lib/bench-zookeeper.js';
import type { BenchFleet, BenchFleetOptions } from './lib/bench-fleet.js';
import { clockTicks, readProcessStat } from '../src/testing/process-stat.js';

/** How long the fleets fire before the first window (after every item is owned). */
const WARM_UP_MS = 25_000;

type FleetClass = new (opts: BenchFleetOptions, cleanup: BenchCleanup) => BenchFleet;

function positive(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** The handler lines written so far under `dir` (one per handler entry: `bench-handler.js`). */
function fires(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('runs-')) continue;
    const bytes = readFileSync(join(dir, f));
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) n++;
  }
  return n;
}

/** CPU seconds the fleet's worker processes used so far (a worker has no child processes). */
function cpuOf(fleet: BenchFleet): number {
  let ticks = 0;
  for (const id of fleet.ids) {
    const pid = fleet.pid(id);
    if (pid !== undefined) ticks += readProcessStat(pid)?.ownTicks ?? 0;
  }
  return ticks / clockTicks();
}

async function main(): Promise<void> {
  const cli = new Command('paired-cpu')
    .argument('<rootA>', 'checkout of build A (fleet A, started first; its ZooKeeper is used)')
    .argument('<rootB>', 'checkout of build B')
    .option('--jobs <n>', 'jobs per fleet (8 items each, every second)', positive('--jobs'), 1500)
    .option('--workers <n>', 'worker processes per fleet', positive('--workers'), 2)
    .option('--windows <n>', 'windows measured', positive('--windows'), 5)
    .option('--window-ms <n>', 'length of a window', positive('--window-ms'), 20_000)
    .parse();
  const [rootA, rootB] = cli.args.map((r) => resolve(r)) as [string, string];
  const opts = cli.opts<{ jobs: number; workers: number; windows: number; windowMs: number }>();
  const fleetOf = async (root: string): Promise<FleetClass> => ((await import(join(root, 'dist', 'bench', 'lib', 'bench-fleet.js'))) as { BenchFleet: FleetClass }).BenchFleet;
  const [FleetA, FleetB] = [await fleetOf(rootA), await fleetOf(rootB)];
  const dir = mkdtempSync(join(tmpdir(), 'zkshard-paired-'));
  const cleanup = new BenchCleanup();
  const stop = (): void => void cleanup.closeAll().finally(() => process.exit(130));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const zk = await startBenchZooKeeper(cleanup, join(dir, 'zk'));
    const jobs = Array.from({ length: opts.jobs }, (_, i) => ({ name: `j${i}`, cron: '* * * * * *', shards: 8 }));
    const make = (Fleet: FleetClass, tag: string): BenchFleet => new Fleet({ connect: zk.connectString, namespace: `paired-${tag}`, dir: join(dir, tag), jobs, workers: opts.workers, logLevel: 'warn' }, cleanup);
    const a = make(FleetA, 'a');
    const b = make(FleetB, 'b');
    await a.start();
    await b.start();
    await a.waitSteady(120_000);
    await b.waitSteady(120_000);
    await sleep(WARM_UP_MS);
    const total = { cpuA: 0, cpuB: 0, firesA: 0, firesB: 0 };
    const ratios: number[] = [];
    for (let w = 1; w <= opts.windows; w++) {
      const [cpuA0, cpuB0, firesA0, firesB0] = [cpuOf(a), cpuOf(b), fires(join(dir, 'a')), fires(join(dir, 'b'))];
      await sleep(opts.windowMs);
      const cpuA = cpuOf(a) - cpuA0;
      const cpuB = cpuOf(b) - cpuB0;
      const firesA = fires(join(dir, 'a')) - firesA0;
      const firesB = fires(join(dir, 'b')) - firesB0;
      const usA = (cpuA / firesA) * 1e6;
      const usB = (cpuB / firesB) * 1e6;
      ratios.push(usA / usB);
      total.cpuA += cpuA;
      total.cpuB += cpuB;
      total.firesA += firesA;
      total.firesB += firesB;
      console.log(`window ${w}: A ${cpuA.toFixed(2)} s CPU, ${firesA} fires, ${usA.toFixed(1)} µs a fire | B ${cpuB.toFixed(2)} s, ${firesB} fires, ${usB.toFixed(1)} µs | A/B ${(usA / usB).toFixed(3)}`);
    }
    ratios.sort((x, y) => x - y);
    const perA = total.cpuA / total.firesA;
    const perB = total.cpuB / total.firesB;
    console.log(`all windows: A ${(perA * 1e6).toFixed(1)} µs a fire, B ${(perB * 1e6).toFixed(1)} µs; A/B ${(perA / perB).toFixed(3)} (median window ${ratios[Math.floor(ratios.length / 2)]!.toFixed(3)})`);
  } finally {
    await cleanup.closeAll((line) => console.error(line));
    cleanup.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
