import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readMembers } from '../../src/membership/read-members.js';
import { readAllAssignments } from '../../src/api/read-assignments.js';
import { findFreePorts } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { WorkerFleet, repoRoot } from '../../src/testing/worker-fleet.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import type { BenchCleanup } from './bench-cleanup.js';
import { BENCH_SESSION_TIMEOUT_MS } from './bench-zookeeper.js';

/** A job of a bench fleet; every item runs bench-handler.js. */
export interface BenchJob {
  name: string;
  cron: string;
  shards: number;
  /** How long each run lasts. @default 0 */
  sleepMs?: number;
}

export interface BenchFleetOptions {
  connect: string;
  namespace: string;
  /** Configs, worker logs and run records go here. */
  dir: string;
  jobs: readonly BenchJob[];
  workers: number;
  /** @default BENCH_SESSION_TIMEOUT_MS */
  sessionTimeoutMs?: number;
  /** @default 5000 */
  shutdownGraceMs?: number;
  /** Give every worker its own `/metrics` port (`httpPort(id)`). @default false */
  http?: boolean;
  /** Worker log level. @default 'info' */
  logLevel?: string;
  /** The workers' `zookeeper.maxRequestBytes`. @default the worker's default (1,000,000) */
  maxRequestBytes?: number;
  /** The workers' `history:` (run history in PostgreSQL). @default none */
  history?: { postgresUrl: string };
  /**
   * V8's background threads per worker process (Node's `--v8-pool-size`, given through
   * `NODE_OPTIONS`): what one worker's collections and compilations may take of the host's cores
   * at once. @default Node's (4)
   */
  v8PoolSize?: number;
}

export const BENCH_HANDLER = join(repoRoot(), 'bench', 'lib', 'bench-handler.js');

/**
 * Worker processes (`zkshard worker`, ids w1..wN) running bench jobs against one ZooKeeper, plus an
 * observer session to read members and assignments. Every pid is tracked for cleanup.
 */
export class BenchFleet {
  readonly paths: ZkPaths;
  private readonly fleet: WorkerFleet;
  private readonly ports = new Map<string, number>();
  private observer: ZkClient | undefined;

  constructor(
    private readonly opts: BenchFleetOptions,
    private readonly cleanup: BenchCleanup,
  ) {
    this.paths = new ZkPaths(opts.namespace);
    this.fleet = new WorkerFleet(opts.dir, join(opts.dir, 'worker-base.yaml'), { BENCH_DIR: opts.dir, ...v8PoolEnv(opts.v8PoolSize) }, (pid, exited) => {
      const untrack = cleanup.trackPid(pid);
      void exited.then(untrack);
    });
  }

  get ids(): string[] {
    return this.fleet.ids;
  }

  /** The observer session (opened by `start`). */
  get zk(): ZkClient {
    if (!this.observer) throw new Error('bench fleet: not started');
    return this.observer;
  }

  pid(id: string): number | undefined {
    return this.fleet.pid(id);
  }

  httpPort(id: string): number | undefined {
    return this.ports.get(id);
  }

  /** Opens the observer and starts workers w1..wN (not waiting for them: see `waitSteady`). */
  async start(): Promise<void> {
    this.cleanup.add(`fleet ${this.opts.namespace}`, () => this.close());
    mkdirSync(this.opts.dir, { recursive: true });
    this.configFor('base', undefined);
    this.observer = new ZkClient({ connect: this.opts.connect, sessionTimeoutMs: 30_000, connectTimeoutMs: 5000 });
    await this.observer.start();
    const ids = Array.from({ length: this.opts.workers }, (_, i) => `w${i + 1}`);
    if (this.opts.http) (await findFreePorts(ids.length)).forEach((port, i) => this.ports.set(ids[i]!, port));
    for (const id of ids) this.startWorker(id);
  }

  /** Starts (or restarts) worker `id` (with `http`, on the port it was given first). */
  startWorker(id: string): number {
    const port = this.ports.get(id);
    return this.fleet.start(id, port === undefined ? join(this.opts.dir, 'worker-base.yaml') : this.configFor(id, port));
  }

  signal(id: string, signal: NodeJS.Signals): void {
    this.fleet.signal(id, signal);
  }

  waitExit(id: string, timeoutMs: number): Promise<void> {
    return this.fleet.waitExit(id, timeoutMs);
  }

  alive(id: string): boolean {
    return this.fleet.alive(id);
  }

  /** Owners (member names) of every item, per job. */
  async assignments(): Promise<Map<string, Array<string | null>>> {
    const out = new Map<string, Array<string | null>>();
    const all = await readAllAssignments(this.zk, this.paths);
    for (const j of this.opts.jobs) out.set(j.name, all.get(j.name)?.owners ?? []);
    return out;
  }

  /** The current member name of each live worker id (its newest member). */
  async memberNames(): Promise<Map<string, string>> {
    const live = new Map<number, string>();
    for (const id of this.ids) if (this.fleet.alive(id)) live.set(this.fleet.pid(id)!, id);
    const out = new Map<string, string>();
    for (const m of await readMembers(this.zk, this.paths)) {
      const id = live.get(m.info.pid);
      if (id) out.set(id, m.name);
    }
    return out;
  }

  /** Whether every item of every job is owned by the current member of a live worker, all `expected` of them registered. */
  async steady(expected = this.ids.filter((id) => this.fleet.alive(id)).length): Promise<boolean> {
    const members = await this.memberNames();
    if (members.size < expected) return false;
    const current = new Set(members.values());
    const all = await this.assignments();
    return this.opts.jobs.every((j) => {
      const owners = all.get(j.name);
      return !!owners && owners.length === j.shards && owners.every((o) => o !== null && current.has(o));
    });
  }

  async waitSteady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await waitFor(() => this.steady(), { timeoutMs, intervalMs: 250, signal, message: `every item of ${this.opts.jobs.length} jobs owned by ${this.opts.workers} live workers` });
  }

  /** SIGTERM to every worker (they drain), then the observer. Idempotent. */
  async close(): Promise<void> {
    await this.fleet.stopAll((this.opts.shutdownGraceMs ?? 5000) + 10_000);
    this.fleet.killAll();
    await this.observer?.close();
    this.observer = undefined;
  }

  private configFor(id: string, httpPort: number | undefined): string {
    const file = join(this.opts.dir, `worker-${id}.yaml`);
    writeFileSync(
      file,
      stringify({
        zookeeper: {
          connect: this.opts.connect,
          namespace: this.opts.namespace,
          sessionTimeoutMs: this.opts.sessionTimeoutMs ?? BENCH_SESSION_TIMEOUT_MS,
          ...(this.opts.maxRequestBytes ? { maxRequestBytes: this.opts.maxRequestBytes } : {}),
        },
        worker: { shutdownGraceMs: this.opts.shutdownGraceMs ?? 5000, ...(httpPort ? { http: { host: '127.0.0.1', port: httpPort } } : {}) },
        logging: { level: this.opts.logLevel ?? 'info' },
        ...(this.opts.history ? { history: this.opts.history } : {}),
        jobs: this.opts.jobs.map((j) => ({ name: j.name, cron: j.cron, shards: j.shards, jobParameter: `sleepMs=${j.sleepMs ?? 0}`, handler: BENCH_HANDLER })),
      }),
    );
    return file;
  }
}

/** The environment that starts a worker with `poolSize` V8 background threads (nothing for Node's default). */
export function v8PoolEnv(poolSize: number | undefined): Record<string, string> {
  if (poolSize === undefined) return {};
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`v8PoolSize must be a whole number ≥ 1, got ${poolSize}`);
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, `--v8-pool-size=${poolSize}`].filter(Boolean).join(' ') };
}
