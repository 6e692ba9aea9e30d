import { join } from 'node:path';
import type { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { BenchFleet, type BenchFleetOptions } from './bench-fleet.js';
import { startBenchZooKeeper } from './bench-zookeeper.js';
import type { ScenarioContext } from './scenario.js';

/** What one measurement runs on: a ZooKeeper of its own and a fleet of worker processes on it. */
export interface BenchFleetRun {
  zk: ZooKeeperServer;
  fleet: BenchFleet;
  /** Where the fleet's workers write their records. */
  dir: string;
}

/** The fleet's options but those `withBenchFleet` sets itself; `juteMaxBuffer` is the server's. */
export type BenchFleetRunOptions = Omit<BenchFleetOptions, 'connect' | 'namespace' | 'dir'> & { juteMaxBuffer?: number };

/**
 * Starts a ZooKeeper of its own (data under `<ctx.dir>/<tag>-zk`) and builds a fleet on it (records
 * under `<ctx.dir>/<tag>`), runs `body`, and closes the fleet, then ZooKeeper, however `body`
 * ends. The fleet is built, not started: `body` starts it (most time the start).
 */
export async function withBenchFleet<T>(ctx: ScenarioContext, tag: string, options: BenchFleetRunOptions, body: (run: BenchFleetRun) => Promise<T>): Promise<T> {
  const { juteMaxBuffer, ...fleetOptions } = options;
  const zk = await startBenchZooKeeper(ctx.cleanup, join(ctx.dir, `${tag}-zk`), {}, juteMaxBuffer);
  const dir = join(ctx.dir, tag);
  const fleet = new BenchFleet({ connect: zk.connectString, namespace: 'bench', dir, ...fleetOptions }, ctx.cleanup);
  try {
    return await body({ zk, fleet, dir });
  } finally {
    await fleet.close();
    await zk.close();
  }
}

/**
 * Starts the fleet and waits until every item is owned; resolves how long that took (ms). An
 * overloaded fleet may never get there: with `measureAnyway` that is logged and NaN returned (the
 * measurement's misses will show it), else it is thrown.
 */
export async function startFleet(ctx: ScenarioContext, fleet: BenchFleet, ownedTimeoutMs: number, options: { measureAnyway?: boolean } = {}): Promise<number> {
  const t0 = Date.now();
  await fleet.start();
  try {
    await fleet.waitSteady(ownedTimeoutMs, ctx.signal);
    return Date.now() - t0;
  } catch (err) {
    if (!options.measureAnyway || ctx.signal.aborted) throw err;
    ctx.log(`${(err as Error).message}; measuring anyway`);
    return Number.NaN;
  }
}
