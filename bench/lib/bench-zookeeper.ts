import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import type { BenchCleanup } from './bench-cleanup.js';

/** Session timeout of every bench worker (and the BullMQ lock it is compared with). */
export const BENCH_SESSION_TIMEOUT_MS = 5000;

/**
 * JVM options of the bench's ZooKeeper: unlike the tests' small-heap, C1-only server, a full JIT and
 * enough heap for 80,000 items' nodes, and G1 with a 20 ms pause goal (README, "How failover
 * works"). Until 2026-12-03 it ran ParallelGC, whose full collections froze the server for
 * 300–600 ms every 30 s at 1,000 jobs × 8 items (p99 lateness 136 ms; 39 ms on G1, the same hour,
 * docs/BENCHMARKS.md §1).
 */
export const BENCH_JVM_OPTIONS: readonly string[] = ['-Xms256m', '-Xmx2g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:-UsePerfData', '-Djava.awt.headless=true'];

/**
 * Starts the standalone ZooKeeper (Debian's package) a scenario runs against, on a free loopback
 * port: fsync on (ZooKeeper's default), tickTime 500 ms (sessions expire on tick boundaries, so the
 * tick bounds how late an expiry is seen), up to 200 connections from loopback, every four-letter
 * word enabled; `config` adds zoo.cfg entries, `juteMaxBuffer` sets the server's request size
 * limit (`-Djute.maxbuffer`, default 1,048,575). Registered for cleanup.
 */
export async function startBenchZooKeeper(
  cleanup: BenchCleanup,
  dataDir: string,
  config: Record<string, string | number> = {},
  juteMaxBuffer?: number,
): Promise<ZooKeeperServer> {
  // The JVM's collections go to `<dataDir>-gc.log`, beside the server's directory (kept with the
  // scratch directory by `--keep`): a stall of the whole fleet is told apart from a pause of the server.
  const gcLog = [`-Xlog:gc:file=${dataDir}-gc.log:time,uptime`];
  const jvmOptions = [...BENCH_JVM_OPTIONS, ...gcLog, ...(juteMaxBuffer === undefined ? [] : [`-Djute.maxbuffer=${juteMaxBuffer}`])];
  const server = new ZooKeeperServer({ forceSync: true, tickTime: 500, dataDir, keepDataDir: false, jvmOptions, startTimeoutMs: 60_000, config: { maxClientCnxns: 200, ...config } });
  cleanup.add('zookeeper', () => server.close());
  await server.start();
  return server;
}
