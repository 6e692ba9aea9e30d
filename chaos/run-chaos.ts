import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { ZooKeeperEnsemble } from '../src/testing/zookeeper-ensemble.js';
import { ZkClient } from '../src/zk/zk-client.js';
import { ZkPaths } from '../src/zk/zk-paths.js';
import { readMembers } from '../src/membership/read-members.js';
import { decodeAssignment } from '../src/model/assignment-record.js';
import { readRunEvents, readWorkerLogs } from './chaos-logs.js';
import { WorkerFleet, repoRoot } from '../src/testing/worker-fleet.js';
import { FencedStoreServer } from './fenced-store-server.js';
import type { ChaosJob, FaultEvent } from './chaos-records.js';

export type FaultKind = FaultEvent['fault'];
export const FAULT_KINDS: readonly FaultKind[] = ['sigkill', 'sigstop', 'sigterm', 'zk-restart', 'zk-outage'];

export interface ChaosOptions {
  /** How long faults are injected. */
  durationMs: number;
  /** @default 5 */
  workers?: number;
  /** Seed of the fault sequence. @default Date.now() */
  seed?: number;
  /** Worker session timeout. @default 4000 */
  sessionTimeoutMs?: number;
  /** How long "all of ZooKeeper down" lasts. @default 20000 */
  outageMs?: number;
  /** `random`: faults drawn at random until the time is up; `each-once`: every kind once, in order. @default 'random' */
  schedule?: 'random' | 'each-once';
  /** Where the run writes its logs and report. @default a new temp dir */
  dir?: string;
  /** Progress lines. @default none */
  log?: (line: string) => void;
  /** Stops injecting faults (the run still settles and stops everything it started). */
  signal?: AbortSignal;
}

/** Everything the checker needs, collected from one run. */
export interface ChaosData {
  dir: string;
  seed: number;
  jobs: ChaosJob[];
  faults: FaultEvent[];
  /** The window in which every scheduled fire must be accounted for. */
  window: { from: number; to: number };
  convergence: { worstMs: number; boundMs: number; samples: number };
  startedAt: number;
  endedAt: number;
}

/** The jobs the chaos fleet runs: every second (and every 2 s), several items, runs of 0.3–0.9 s. */
export const CHAOS_JOBS: ReadonlyArray<ChaosJob & { sleepMs: number }> = [
  { name: 'alpha', cron: '* * * * * *', shards: 4, sleepMs: 300 },
  { name: 'beta', cron: '* * * * * *', shards: 3, sleepMs: 600 },
  { name: 'gamma', cron: '*/2 * * * * *', shards: 5, sleepMs: 900 },
];

/**
 * Runs the fleet under faults and collects the records: a 3-server ensemble on loopback, N worker
 * processes, the fenced store; faults one at a time (bounded by `durationMs`), then the time until
 * every item is owned by a live worker again. Everything started is stopped, even on error.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosData & { store: FencedStoreServer }> {
  const seed = options.seed ?? Date.now();
  const random = mulberry32(seed);
  const log = options.log ?? (() => {});
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 4000;
  const outageMs = options.outageMs ?? 20_000;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'zkshard-chaos-'));
  mkdirSync(dir, { recursive: true });
  // A restarted server may take long to rejoin on a loaded machine (three JVMs and five workers on
  // two cores): wait up to two minutes before giving the run up.
  const ensemble = new ZooKeeperEnsemble({ size: 3, startTimeoutMs: 120_000 });
  const store = new FencedStoreServer();
  const faults: FaultEvent[] = [];
  let fleet: WorkerFleet | undefined;
  let observer: ZkClient | undefined;
  const startedAt = Date.now();
  try {
    await ensemble.start();
    await store.start();
    log(`ensemble ${ensemble.connectString}, store ${store.url}, logs in ${dir}`);
    const configFile = join(dir, 'worker.yaml');
    writeFileSync(
      configFile,
      stringify({
        zookeeper: { connect: ensemble.connectString, namespace: 'chaos', sessionTimeoutMs },
        worker: { shutdownGraceMs: 3000 },
        jobs: CHAOS_JOBS.map((j) => ({ name: j.name, cron: j.cron, shards: j.shards, jobParameter: `sleepMs=${j.sleepMs}`, handler: join(repoRoot(), 'chaos', 'chaos-handler.js') })),
      }),
    );
    fleet = new WorkerFleet(dir, configFile, { CHAOS_DIR: dir, CHAOS_STORE: store.url });
    const ids = Array.from({ length: options.workers ?? 5 }, (_, i) => `w${i + 1}`);
    for (const id of ids) fleet.start(id);
    const paths = new ZkPaths('chaos');
    const f = fleet;
    // The observer's own session may be lost in an outage too: open a new one when it is.
    const client = async (): Promise<ZkClient> => {
      if (!observer || observer.signal.aborted) {
        await observer?.close();
        observer = new ZkClient({ connect: ensemble.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 2000 });
        await observer.start();
      }
      return observer;
    };
    const allOwnedByLive = async (): Promise<boolean> => {
      const o = await client();
      const live = f.livePids();
      // A process's current member is its newest one: an older member of the same pid is a session
      // it abandoned (lease lost) that ZooKeeper has not expired yet; nothing runs its items.
      const current = new Map<number, string>();
      for (const m of await readMembers(o, paths)) if (live.has(m.info.pid)) current.set(m.info.pid, m.name);
      const currentMembers = new Set(current.values());
      for (const job of CHAOS_JOBS) {
        const a = decodeAssignment((await o.getDataIfExists(paths.assignment(job.name)))?.data);
        if (!a || a.owners.length !== job.shards) return false;
        if (!a.owners.every((owner) => owner !== null && currentMembers.has(owner))) return false;
      }
      return currentMembers.size >= ids.length;
    };
    await waitUntil(allOwnedByLive, 60_000, 'the fleet to start');
    const steadyAt = Date.now();
    log(`fleet up: ${ids.length} workers; injecting faults for ${Math.round(options.durationMs / 1000)} s (seed ${seed})`);

    // ---- faults, one at a time -----------------------------------------------------------------
    const deadline = Date.now() + options.durationMs;
    const sequence = options.schedule === 'each-once' ? [...FAULT_KINDS] : [];
    for (let n = 0; ; n++) {
      const kind = options.schedule === 'each-once' ? sequence.shift() : FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)];
      if (!kind || Date.now() >= deadline || options.signal?.aborted) break;
      const id = ids[Math.floor(random() * ids.length)]!;
      const server = Math.floor(random() * 3);
      const start = Date.now();
      let event: FaultEvent;
      switch (kind) {
        case 'sigkill': {
          const pid = f.pid(id);
          f.signal(id, 'SIGKILL');
          await f.waitExit(id, 5000);
          await sleep(500 + random() * 1500);
          f.start(id);
          event = { fault: kind, target: id, pid, start, end: Date.now() };
          break;
        }
        case 'sigstop': {
          const pid = f.pid(id);
          f.signal(id, 'SIGSTOP');
          await sleep(sessionTimeoutMs + 1500 + random() * 2000);
          f.signal(id, 'SIGCONT');
          event = { fault: kind, target: id, pid, start, end: Date.now() };
          break;
        }
        case 'sigterm': {
          const pid = f.pid(id);
          f.signal(id, 'SIGTERM');
          await f.waitExit(id, 15_000);
          await sleep(300 + random() * 1000);
          f.start(id);
          event = { fault: kind, target: id, pid, start, end: Date.now() };
          break;
        }
        case 'zk-restart':
          await ensemble.restartServer(server);
          event = { fault: kind, target: `zk${server}`, start, end: Date.now() };
          break;
        case 'zk-outage':
          for (let i = 0; i < 3; i++) await ensemble.stopServer(i);
          await sleep(outageMs);
          for (let i = 0; i < 3; i++) await ensemble.startServer(i);
          await ensemble.waitForQuorum();
          event = { fault: kind, target: 'zk*', start, end: Date.now() };
          break;
      }
      faults.push(event);
      log(`fault ${n + 1}: ${event.fault} ${event.target} (${((event.end - event.start) / 1000).toFixed(1)} s)`);
      if (Date.now() < deadline) await sleep(1500 + random() * 3000, undefined, { signal: options.signal }).catch(() => undefined);
    }
    // Measured from the end of the last fault (not from after the pause that followed it).
    const faultsStoppedAt = faults.at(-1)?.end ?? Date.now();

    // ---- convergence: every item owned by a live worker ---------------------------------------
    const boundMs = sessionTimeoutMs + 1000;
    let samples = 0;
    const converged = await waitUntil(async () => {
      samples++;
      return allOwnedByLive();
    }, 60_000, 'every item to be owned by a live worker').then(
      () => Date.now(),
      () => Number.POSITIVE_INFINITY,
    );
    const worstMs = converged - faultsStoppedAt;
    log(`converged ${Number.isFinite(worstMs) ? `${worstMs} ms` : 'never (60 s)'} after the last fault (bound ${boundMs} ms)`);
    // Let a few more fires run so that the end of the window is settled.
    await sleep(4000);
    const windowTo = Date.now() - 2500;
    await f.stopAll();
    const endedAt = Date.now();
    return {
      dir,
      seed,
      jobs: CHAOS_JOBS.map(({ name, cron, shards }) => ({ name, cron, shards })),
      faults,
      window: { from: steadyAt + 1000, to: windowTo },
      convergence: { worstMs, boundMs, samples },
      startedAt,
      endedAt,
      store,
    };
  } finally {
    fleet?.killAll();
    await observer?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await ensemble.close().catch(() => undefined);
  }
}

/** Reads what the processes wrote (after `runChaos`). */
export function collect(dir: string): { runs: ReturnType<typeof readRunEvents> } & ReturnType<typeof readWorkerLogs> {
  return { runs: readRunEvents(dir), ...readWorkerLogs(dir) };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* ZooKeeper may be down: try again */
    }
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A small seeded PRNG, so that a run's fault sequence can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
