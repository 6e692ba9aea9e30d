import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { ZooKeeperEnsemble } from '../src/testing/zookeeper-ensemble.js';
import { NetworkLab } from '../src/testing/network-lab.js';
import type { NetworkNamespace } from '../src/testing/network-namespace.js';
import { netnsSupport } from '../src/testing/netns-support.js';
import { ZkClient } from '../src/zk/zk-client.js';
import { ZkPaths } from '../src/zk/zk-paths.js';
import { readMembers } from '../src/membership/read-members.js';
import { assignmentNodeOf, decodeJobAssignment } from '../src/model/assignment-group.js';
import { readRunEvents, readScriptKills, readWorkerLogs } from './chaos-logs.js';
import { WorkerFleet, repoRoot, type WorkerExit } from '../src/testing/worker-fleet.js';
import { FencedStoreServer } from './fenced-store-server.js';
import { HistoryPoller, type HistoryPollStats } from './history-poller.js';
import type { ChaosJob, FaultEvent, FaultKind, HistoryNote } from './chaos-records.js';
import { processStacks, wakeState } from './wake-check.js';

/** How long after a SIGCONT the thawed worker's state is read (see `wakeState`). */
const WAKE_CHECK_MS = 2000;

export type { FaultKind } from './chaos-records.js';
/** Faults that need no network namespaces. */
export const PROCESS_FAULT_KINDS: readonly FaultKind[] = ['sigkill', 'sigstop', 'sigterm', 'zk-restart', 'zk-outage'];
/** Partition faults (network namespaces; see `FaultKind`). */
export const PARTITION_FAULT_KINDS: readonly FaultKind[] = [
  'partition-worker', 'partition-worker-in', 'partition-worker-out', 'partition-zk-leader', 'partition-zk-minority',
];
/** Every fault kind, in the order `each-once` injects them. */
export const FAULT_KINDS: readonly FaultKind[] = [...PROCESS_FAULT_KINDS, ...PARTITION_FAULT_KINDS];
/** Faults that act on ZooKeeper servers: at most one at a time, also with `overlap`. */
const ZK_FAULT_KINDS: ReadonlySet<FaultKind> = new Set(['zk-restart', 'zk-outage', 'partition-zk-leader', 'partition-zk-minority']);

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
  /**
   * `random`: faults drawn at random until the time is up; `each-once`: every kind once, in order
   * (the partition kinds only with `partitions`). @default 'random'
   */
  schedule?: 'random' | 'each-once';
  /**
   * The fault kinds to draw from (`random`) or to inject in this order (`each-once`). Partition
   * kinds need `partitions`. @default every kind this machine can inject
   */
  kinds?: readonly FaultKind[];
  /**
   * Run every worker and ZooKeeper server in a network namespace of its own and inject partition
   * faults too (needs root, `ip` and `iptables`: see `netnsSupport`). `undefined`: when this machine
   * can; `true`: fail when it cannot. @default undefined
   */
  partitions?: boolean;
  /**
   * Faults overlap: a new one starts every 0.5–3 s whether or not the last ones are over (never
   * two on one worker, never two on ZooKeeper, always one worker untouched; a kind that cannot
   * start now is drawn again among those that can). @default false
   */
  overlap?: boolean;
  /**
   * Add `SCRIPT_JOB`: a script job whose script ignores SIGTERM and runs 8 s (so that a worker
   * cut off mid-run must kill it, not ask it to stop). @default false
   */
  scripts?: boolean;
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
  sessionTimeoutMs: number;
  /** Whether partition faults were injected (processes in network namespaces). */
  partitions: boolean;
  /**
   * The missed/skipped entries ZooKeeper held in the items' histories: read every second during the
   * run and once after the workers stopped, each distinct entry once.
   */
  historyNotes: HistoryNote[];
  historyPolls: HistoryPollStats;
  /** Every worker process that ended, and whether the harness asked it to. */
  exits: WorkerExit[];
}

/** The jobs the chaos fleet runs: every second (and every 2 s), several items, runs of 0.3–0.9 s. */
export const CHAOS_JOBS: ReadonlyArray<ChaosJob & { sleepMs: number }> = [
  { name: 'alpha', cron: '* * * * * *', shards: 4, sleepMs: 300 },
  { name: 'beta', cron: '* * * * * *', shards: 3, sleepMs: 600 },
  { name: 'gamma', cron: '*/2 * * * * *', shards: 5, sleepMs: 900 },
];

/** The script job `scripts` adds: 8 s runs every 10 s, 2 items, SIGTERM ignored. */
export const SCRIPT_JOB: ChaosJob & { sleepMs: number } = { name: 'delta', cron: '*/10 * * * * *', shards: 2, sleepMs: 8000 };

/**
 * Runs the fleet under faults and collects the records: a 3-server ensemble, N worker processes,
 * the fenced store; with `partitions`, each server and worker in a network namespace of its own
 * (the store and the observer on the host's address of the lab). Faults one at a time (or
 * overlapping), bounded by `durationMs`, then the time until every item is owned by a live worker
 * again. Everything started is stopped, even on error.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosData & { store: FencedStoreServer }> {
  const seed = options.seed ?? Date.now();
  const random = mulberry32(seed);
  const log = options.log ?? (() => {});
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 4000;
  const outageMs = options.outageMs ?? 20_000;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'zkshard-chaos-'));
  mkdirSync(dir, { recursive: true });
  const ids = Array.from({ length: options.workers ?? 5 }, (_, i) => `w${i + 1}`);
  const jobs = options.scripts ? [...CHAOS_JOBS, SCRIPT_JOB] : CHAOS_JOBS;
  const support = options.partitions === false ? undefined : await netnsSupport();
  if (options.partitions === true && support?.ok === false) throw new Error(`chaos: partition faults asked for, but ${support.reason}`);
  const partitions = support?.ok === true;
  const unknown = (options.kinds ?? []).filter((k) => !FAULT_KINDS.includes(k));
  if (unknown.length > 0) throw new RangeError(`chaos: unknown fault kind(s) ${JSON.stringify(unknown)}; known: ${FAULT_KINDS.join(', ')}`);
  const needNetns = (options.kinds ?? []).filter((k) => PARTITION_FAULT_KINDS.includes(k));
  if (!partitions && needNetns.length > 0) throw new RangeError(`chaos: fault kind(s) ${needNetns.join(', ')} need partitions, which are off (${support === undefined ? 'turned off' : support.ok ? '' : support.reason})`);
  if (!partitions) log(`partition faults off: ${support === undefined ? 'turned off' : support.ok ? '' : support.reason}`);
  const lab = partitions ? new NetworkLab() : undefined;
  const store = new FencedStoreServer();
  const faults: FaultEvent[] = [];
  let ensemble: ZooKeeperEnsemble | undefined;
  let fleet: WorkerFleet | undefined;
  let observer: ZkClient | undefined;
  let opening: Promise<ZkClient> | undefined;
  let poller: HistoryPoller | undefined;
  const startedAt = Date.now();
  try {
    const workerNs = new Map<string, NetworkNamespace>();
    let serverNs: NetworkNamespace[] | undefined;
    if (lab) {
      await lab.start();
      serverNs = [];
      for (let i = 1; i <= 3; i++) serverNs.push(await lab.addNamespace(`zk${i}`));
      for (const id of ids) workerNs.set(id, await lab.addNamespace(id));
    }
    // A restarted server may take long to rejoin on a loaded machine (three JVMs and five workers on
    // two cores): wait up to two minutes before giving the run up.
    ensemble = new ZooKeeperEnsemble({ size: 3, startTimeoutMs: 120_000, ...(serverNs ? { netns: serverNs } : {}) });
    const zk = ensemble;
    await zk.start();
    await store.start(lab?.hostAddress);
    log(`ensemble ${zk.connectString}, store ${store.url}, logs in ${dir}${lab ? `; network lab ${lab.cidr}` : ''}`);
    const configFile = join(dir, 'worker.yaml');
    writeFileSync(
      configFile,
      stringify({
        zookeeper: { connect: zk.connectString, namespace: 'chaos', sessionTimeoutMs },
        worker: { shutdownGraceMs: 3000 },
        jobs: jobs.map((j) => ({
          name: j.name, cron: j.cron, shards: j.shards, jobParameter: `sleepMs=${j.sleepMs}`,
          ...(j === SCRIPT_JOB ? { command: ['/bin/sh', join(repoRoot(), 'chaos', 'chaos-script.sh')] } : { handler: join(repoRoot(), 'chaos', 'chaos-handler.js') }),
        })),
      }),
    );
    // ZKSHARD_ZK in the caller's environment would override the file: point it at the ensemble too.
    fleet = new WorkerFleet(dir, configFile, { CHAOS_DIR: dir, CHAOS_STORE: store.url, ZKSHARD_ZK: zk.connectString }, undefined, (e) => {
      if (!e.asked) log(`${e.id} (pid ${e.pid}) exited on its own: code ${e.code}, signal ${e.signal}`);
    });
    const f = fleet;
    const startWorker = (id: string): number => f.start(id, configFile, workerNs.get(id));
    for (const id of ids) startWorker(id);
    const paths = new ZkPaths('chaos');
    // The observer's own session may be lost in an outage too: open a new one when it is (one at a
    // time: the convergence check and the history poll share it; a client that could not connect
    // is closed and dropped).
    const open = async (): Promise<ZkClient> => {
      await observer?.close().catch(() => undefined);
      observer = undefined;
      const c = new ZkClient({ connect: zk.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 2000 });
      try {
        await c.start();
      } catch (err) {
        await c.close().catch(() => undefined);
        throw err;
      }
      observer = c;
      return c;
    };
    const client = (): Promise<ZkClient> => {
      if (observer && !observer.signal.aborted) return Promise.resolve(observer);
      opening ??= open().finally(() => {
        opening = undefined;
      });
      return opening;
    };
    // Notes whose writer never heard ZooKeeper's answer are only in ZooKeeper: read them there.
    poller = new HistoryPoller(async (path) => (await (await client()).getDataIfExists(path))?.data ?? null, paths, jobs);
    poller.start();
    /**
     * Whether every item is owned by a live worker's current member; when it is, the moment that
     * became so by ZooKeeper's own clock (the newest creation of those members and write of the
     * jobs' assignment nodes: the state read was unchanged since), else undefined. ZooKeeper's
     * stamps, not when this observer read it: after a server's restart the observer's own session
     * may take seconds to reconnect (chaos of 2026-12-06: the fleet had converged 34 ms after the
     * last fault, the observer's first read answered 3.6 s after it).
     */
    const ownedByLiveSince = async (): Promise<number | undefined> => {
      const o = await client();
      const live = f.livePids();
      // A process's current member is its newest one: an older member of the same pid is a session
      // it abandoned (lease lost) that ZooKeeper has not expired yet; nothing runs its items.
      const current = new Map<number, string>();
      for (const m of await readMembers(o, paths)) if (live.has(m.info.pid)) current.set(m.info.pid, m.name);
      if (current.size < ids.length) return undefined;
      let since = 0;
      for (const name of current.values()) {
        const node = await o.getDataIfExists(paths.member(name));
        if (!node) return undefined;
        since = Math.max(since, node.stat.ctime);
      }
      const currentMembers = new Set(current.values());
      for (const job of jobs) {
        const node = await o.getDataIfExists(assignmentNodeOf(paths, job.name));
        const a = decodeJobAssignment(node?.data, job.name);
        if (!node || !a || a.owners.length !== job.shards) return undefined;
        if (!a.owners.every((owner) => owner !== null && currentMembers.has(owner))) return undefined;
        since = Math.max(since, node.stat.mtime);
      }
      return since;
    };
    const allOwnedByLive = async (): Promise<boolean> => (await ownedByLiveSince()) !== undefined;
    await waitUntil(allOwnedByLive, 60_000, 'the fleet to start');
    const steadyAt = Date.now();
    const kinds = options.kinds ?? (partitions ? FAULT_KINDS : PROCESS_FAULT_KINDS);
    log(`fleet up: ${ids.length} workers; injecting ${options.overlap ? 'overlapping ' : ''}faults for ${Math.round(options.durationMs / 1000)} s (seed ${seed}${partitions ? ', with partitions' : ''})`);

    /**
     * A thawed worker as read `WAKE_CHECK_MS` after its SIGCONT: kept in faults.json (`afterWake`)
     * and logged. One that logged nothing meanwhile (its session expired while it was frozen: it
     * says so within moments) gets its threads' stacks kept beside the logs.
     */
    const readWake = async (event: FaultEvent, id: string, pid: number): Promise<void> => {
      const state = await wakeState(pid, WAKE_CHECK_MS, (ms) => sleep(ms), f.logFile(id));
      event.afterWake = state;
      if (!state) {
        const ended = f.exits.some((e) => e.pid === pid);
        log(`${id} (pid ${pid}): not in /proc ${WAKE_CHECK_MS} ms after SIGCONT (${ended ? 'it ended' : 'the harness has not seen it end'})`);
        return;
      }
      log(`${id} (pid ${pid}) ${WAKE_CHECK_MS} ms after SIGCONT: state ${state.state}, ${state.cpuMs} ms of CPU${state.wchan ? `, waiting in ${state.wchan}` : ''}, ${state.loggedBytes} bytes logged`);
      // Stopped again (the next fault froze it anew): nothing to learn, and a debugger's attach and
      // detach could let it run while the suite counts it frozen.
      if (state.loggedBytes !== 0 || state.state === 'T') return;
      const file = join(dir, `silent-${id}-${pid}.txt`);
      writeFileSync(file, await processStacks(pid));
      log(`${id} (pid ${pid}) logged nothing after its SIGCONT: its threads' stacks are in ${file}`);
    };

    /** Injects one fault and resolves with its record once it is undone. */
    const inject = async (kind: FaultKind, id: string, server: number): Promise<FaultEvent> => {
      const start = Date.now();
      const cutPast = () => sessionTimeoutMs + 1000 + random() * 2000;
      switch (kind) {
        case 'sigkill': {
          const pid = f.pid(id);
          f.signal(id, 'SIGKILL');
          await f.waitExit(id, 5000);
          await sleep(500 + random() * 1500);
          startWorker(id);
          return { fault: kind, target: id, pid, start, end: Date.now() };
        }
        case 'sigstop': {
          const pid = f.pid(id);
          f.signal(id, 'SIGSTOP');
          await sleep(sessionTimeoutMs + 1500 + random() * 2000);
          f.signal(id, 'SIGCONT');
          const event: FaultEvent = { fault: kind, target: id, pid, start, end: Date.now() };
          // Read 2 s on, without holding the next fault back.
          if (pid !== undefined) void readWake(event, id, pid).catch((err: unknown) => log(`${id} (pid ${pid}): wake check failed: ${(err as Error).message}`));
          return event;
        }
        case 'sigterm': {
          const pid = f.pid(id);
          f.signal(id, 'SIGTERM');
          await f.waitExit(id, 15_000);
          await sleep(300 + random() * 1000);
          startWorker(id);
          return { fault: kind, target: id, pid, start, end: Date.now() };
        }
        case 'zk-restart':
          await zk.restartServer(server);
          return { fault: kind, target: `zk${server}`, start, end: Date.now() };
        case 'zk-outage':
          for (let i = 0; i < 3; i++) await zk.stopServer(i);
          await sleep(outageMs);
          for (let i = 0; i < 3; i++) await zk.startServer(i);
          await zk.waitForQuorum();
          return { fault: kind, target: 'zk*', start, end: Date.now() };
        case 'partition-worker':
        case 'partition-worker-in':
        case 'partition-worker-out': {
          const ns = workerNs.get(id)!;
          const pid = f.pid(id);
          await ns.cut(zk.hosts, kind === 'partition-worker' ? 'both' : kind === 'partition-worker-in' ? 'in' : 'out');
          const cutAt = Date.now();
          await sleep(cutPast());
          await ns.heal();
          return { fault: kind, target: id, pid, start: cutAt, end: Date.now() };
        }
        case 'partition-zk-leader':
        case 'partition-zk-minority': {
          const leader = await zk.leader();
          const followers = [0, 1, 2].filter((i) => i !== leader);
          const victim = kind === 'partition-zk-leader' && leader !== undefined ? leader : followers[server % followers.length]!;
          const ns = serverNs![victim]!;
          await ns.cut(zk.hosts.filter((_, i) => i !== victim), 'both');
          const cutAt = Date.now();
          await sleep(3000 + random() * 4000);
          await ns.heal();
          await zk.waitForQuorum(120_000);
          return { fault: kind, target: `zk${victim}${kind === 'partition-zk-leader' && leader !== victim ? ' (no leader found: a follower)' : ''}`, start: cutAt, end: Date.now() };
        }
      }
    };
    const record = (event: FaultEvent): void => {
      faults.push(event);
      log(`fault ${faults.length}: ${event.fault} ${event.target} (${((event.end - event.start) / 1000).toFixed(1)} s)`);
    };

    const deadline = Date.now() + options.durationMs;
    const sequence = options.schedule === 'each-once' ? [...kinds] : [];
    if (!options.overlap) {
      // ---- faults, one at a time ---------------------------------------------------------------
      for (;;) {
        const kind = options.schedule === 'each-once' ? sequence.shift() : kinds[Math.floor(random() * kinds.length)];
        if (!kind || Date.now() >= deadline || options.signal?.aborted) break;
        const id = ids[Math.floor(random() * ids.length)]!;
        const server = Math.floor(random() * 3);
        record(await inject(kind, id, server));
        if (Date.now() < deadline) await sleep(1500 + random() * 3000, undefined, { signal: options.signal }).catch(() => undefined);
      }
    } else {
      // ---- overlapping faults: never two on one worker or on ZooKeeper, one worker always spared --
      const busy = new Set<string>();
      const running = new Set<Promise<void>>();
      for (;;) {
        if (Date.now() >= deadline || options.signal?.aborted) break;
        const free = ids.filter((id) => !busy.has(id));
        const fits = (k: FaultKind): boolean => (ZK_FAULT_KINDS.has(k) ? !busy.has('zk') : free.length > 1);
        let kind: FaultKind | undefined;
        if (options.schedule === 'each-once') {
          kind = sequence[0];
          if (kind === undefined) break;
          if (fits(kind)) sequence.shift();
          else kind = undefined;
        } else {
          const fitting = kinds.filter(fits);
          kind = fitting.length === 0 ? undefined : fitting[Math.floor(random() * fitting.length)];
        }
        if (kind === undefined) {
          await Promise.race(running); // wait for a slot
          continue;
        }
        const id = free[Math.floor(random() * free.length)]!;
        const server = Math.floor(random() * 3);
        const slot = ZK_FAULT_KINDS.has(kind) ? 'zk' : id;
        busy.add(slot);
        const done: Promise<void> = inject(kind, id, server).then(record).finally(() => {
          busy.delete(slot);
          running.delete(done);
        });
        running.add(done);
        await sleep(500 + random() * 2500, undefined, { signal: options.signal }).catch(() => undefined);
      }
      await Promise.all(running);
    }
    faults.sort((a, b) => a.start - b.start);
    // Measured from the end of the last fault (not from after the pause that followed it).
    const faultsStoppedAt = faults.reduce((t, x) => Math.max(t, x.end), 0) || Date.now();

    // ---- convergence: every item owned by a live worker ---------------------------------------
    const boundMs = sessionTimeoutMs + 1000;
    let samples = 0;
    let since: number | undefined;
    const seen = await waitUntil(async () => {
      samples++;
      since = await ownedByLiveSince();
      return since !== undefined;
    }, 60_000, 'every item to be owned by a live worker').then(
      () => Date.now(),
      () => Number.POSITIVE_INFINITY,
    );
    // Converged when ZooKeeper says the state read was made (not before the fault ended: a fault
    // that moved nothing converges at once).
    const converged = since === undefined ? seen : Math.max(since, faultsStoppedAt);
    const worstMs = converged - faultsStoppedAt;
    log(`converged ${Number.isFinite(worstMs) ? `${worstMs} ms` : 'never (60 s)'} after the last fault by ZooKeeper's stamps (bound ${boundMs} ms); seen by the observer ${Number.isFinite(seen) ? `${seen - faultsStoppedAt} ms` : 'never'} after it, in ${samples} read(s)`);
    // Let a few more fires run so that the end of the window is settled.
    await sleep(4000);
    const windowTo = Date.now() - 2500;
    await f.stopAll();
    // Workers stopping may record notes (items leaving them): read the histories once more.
    await poller.stop();
    const finalPoll = await waitUntil(() => poller!.poll(), 30_000, 'a complete read of every history').then(() => true, () => false);
    if (!finalPoll) log('could not read every item\'s history after the workers stopped (30 s): notes written last may be missing');
    log(`history polls: ${poller.stats.complete} complete, ${poller.stats.incomplete} incomplete, ${poller.stats.malformed} malformed history(ies); ${poller.notes.length} missed/skipped entries`);
    const endedAt = Date.now();
    return {
      dir,
      seed,
      jobs: jobs.map(({ name, cron, shards }) => ({ name, cron, shards })),
      faults,
      window: { from: steadyAt + 1000, to: windowTo },
      convergence: { worstMs, boundMs, samples },
      startedAt,
      endedAt,
      sessionTimeoutMs,
      partitions,
      historyNotes: [...poller.notes],
      historyPolls: poller.stats,
      exits: [...f.exits],
      store,
    };
  } finally {
    fleet?.killAll();
    await poller?.stop();
    await opening?.catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await ensemble?.close().catch(() => undefined);
    await lab?.close().catch(() => undefined);
  }
}

/** Reads what the processes wrote (after `runChaos`). */
export function collect(dir: string): { runs: ReturnType<typeof readRunEvents> } & ReturnType<typeof readWorkerLogs> {
  return { runs: [...readRunEvents(dir), ...readScriptKills(dir)], ...readWorkerLogs(dir) };
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
