import type { JobDefinition, MisfirePolicy, OverlapPolicy, ShardingStrategyName } from '../config/job-definition.js';
import { JOB_DEFAULTS } from '../config/job-definition.js';
import { SeededRandom } from './seeded-random.js';

/** A job of the simulated fleet: its definition and how long its handler works. */
export interface SimJob {
  definition: JobDefinition;
  /** Seconds between fires (`cron` is every this many seconds). */
  periodS: number;
  /** A run works for a duration drawn from [minRunMs, maxRunMs]. */
  minRunMs: number;
  maxRunMs: number;
  /** Chance that an attempt fails (throws), so that retries run. */
  failRate: number;
}

/** One thing the simulation's director does at `atMs` (virtual monotonic time). */
export type FleetAction =
  | { atMs: number; kind: 'crash'; worker: number; restartAfterMs: number }
  | { atMs: number; kind: 'freeze'; worker: number; forMs: number }
  | { atMs: number; kind: 'partition'; worker: number; forMs: number }
  | { atMs: number; kind: 'drop'; worker: number }
  | { atMs: number; kind: 'lose'; worker: number; when: 'before-apply' | 'after-apply' }
  | { atMs: number; kind: 'slow'; worker: number; forMs: number; maxMs: number }
  | { atMs: number; kind: 'skew'; worker: number; deltaMs: number }
  | { atMs: number; kind: 'disable' | 'enable'; job: string; item?: number }
  | { atMs: number; kind: 'move'; job: string; item: number; worker: number }
  | { atMs: number; kind: 'drain' | 'undrain'; worker: number }
  | { atMs: number; kind: 'reshard'; job: string; shards: number; force: boolean }
  | { atMs: number; kind: 'trigger'; job: string; item?: number };

export interface FleetScenario {
  seed: number;
  workers: number;
  sessionTimeoutMs: number;
  jobs: SimJob[];
  /** Faults and operator actions, in time order, all before `activeMs`. */
  actions: FleetAction[];
  /** Faults and actions happen in [0, activeMs); then everything heals, and the fleet runs `tailMs` more. */
  activeMs: number;
  tailMs: number;
}

export interface ScenarioOptions {
  /** Virtual time with faults, ms: drawn from this range. @default [20000, 40000] */
  activeMs?: [number, number];
  /** Faults and operator actions per virtual second, on average. @default 0.3 */
  actionRate?: number;
}

const OVERLAPS: OverlapPolicy[] = ['skip', 'queue', 'replace'];
const MISFIRES: MisfirePolicy[] = ['fire-once', 'skip', 'catch-up'];
const STRATEGIES: ShardingStrategyName[] = ['sticky', 'average', 'odevity', 'round-robin'];

/** Draws a fleet, its jobs and a schedule of faults and operator actions from one seed. */
export function generateScenario(seed: number, options: ScenarioOptions = {}): FleetScenario {
  const random = new SeededRandom(seed);
  const workers = random.between(2, 4);
  const sessionTimeoutMs = random.pick([3000, 4000, 6000]);
  const jobs: SimJob[] = [];
  const jobCount = random.between(1, 3);
  for (let j = 0; j < jobCount; j++) {
    const periodS = random.pick([1, 2, 3, 4, 5]);
    const overlap = random.pick(OVERLAPS);
    const periodMs = periodS * 1000;
    // A queueing job whose runs outlast its period would queue without bound.
    const maxRunMs = Math.round(periodMs * (overlap === 'queue' ? 0.2 + random.float() * 0.7 : 0.2 + random.float() * 1.3));
    jobs.push({
      periodS,
      minRunMs: Math.round(maxRunMs / 4),
      maxRunMs,
      failRate: random.chance(0.3) ? 0.2 : 0,
      definition: {
        ...JOB_DEFAULTS,
        name: `j${j}`,
        cron: `*/${periodS} * * * * *`,
        shards: random.between(1, 6),
        itemParameters: {},
        handler: './sim.js',
        strategy: random.pick(STRATEGIES),
        overlap,
        misfire: random.pick(MISFIRES),
        maxCatchUp: 3,
        failover: random.chance(0.9),
        timeoutMs: random.chance(0.3) ? periodMs : 0,
        retry: { attempts: random.pick([1, 1, 2]), backoffMs: 200, maxBackoffMs: 1000 },
        maxFailovers: random.between(1, 3),
      },
    });
  }
  const [lo, hi] = options.activeMs ?? [20_000, 40_000];
  const activeMs = random.between(lo, hi);
  const actions: FleetAction[] = [];
  const rate = options.actionRate ?? 0.3;
  const worker = () => random.int(workers);
  const job = () => random.pick(jobs).definition;
  // The first seconds let the fleet form; faults start after.
  for (let at = 2000 + random.int(2000); at < activeMs; at += Math.round((-Math.log(1 - random.float()) * 1000) / rate)) {
    const T = sessionTimeoutMs;
    const k = random.int(100);
    const d = job();
    if (k < 10) actions.push({ atMs: at, kind: 'crash', worker: worker(), restartAfterMs: random.between(200, 2 * T) });
    else if (k < 20) actions.push({ atMs: at, kind: 'freeze', worker: worker(), forMs: random.chance(0.5) ? random.between(100, T / 2) : random.between(T / 2, 2 * T) });
    else if (k < 28) actions.push({ atMs: at, kind: 'partition', worker: worker(), forMs: random.between(200, 2 * T) });
    else if (k < 36) actions.push({ atMs: at, kind: 'drop', worker: worker() });
    else if (k < 46) actions.push({ atMs: at, kind: 'lose', worker: worker(), when: random.chance(0.5) ? 'before-apply' : 'after-apply' });
    else if (k < 52) actions.push({ atMs: at, kind: 'slow', worker: worker(), forMs: random.between(500, 5000), maxMs: random.between(5, 400) });
    else if (k < 63) actions.push({ atMs: at, kind: 'skew', worker: worker(), deltaMs: random.chance(0.8) ? random.between(-1500, 1500) : random.pick([-1, 1]) * random.between(5500, 8000) });
    else if (k < 71) actions.push({ atMs: at, kind: random.chance(0.5) ? 'disable' : 'enable', job: d.name, item: random.chance(0.8) ? random.int(d.shards) : undefined });
    else if (k < 77) actions.push({ atMs: at, kind: 'move', job: d.name, item: random.int(d.shards), worker: worker() });
    else if (k < 84) actions.push({ atMs: at, kind: random.chance(0.5) ? 'drain' : 'undrain', worker: worker() });
    else if (k < 90) actions.push({ atMs: at, kind: 'reshard', job: d.name, shards: random.between(1, 6), force: random.chance(0.3) });
    else actions.push({ atMs: at, kind: 'trigger', job: d.name, item: random.chance(0.7) ? random.int(d.shards) : undefined });
  }
  const maxPeriodMs = Math.max(...jobs.map((j) => j.periodS * 1000));
  const maxRunMs = Math.max(...jobs.map((j) => j.maxRunMs));
  return { seed, workers, sessionTimeoutMs, jobs, actions, activeMs, tailMs: 2 * sessionTimeoutMs + 2 * maxPeriodMs + maxRunMs + 6000 };
}
