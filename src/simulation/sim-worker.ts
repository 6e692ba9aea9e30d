import type { Logger } from 'pino';
import type { LedgerDisagreement } from '../model/ledger-view.js';
import { WorkerSession, type SessionJob } from '../worker/worker-session.js';
import { LeaseLostError } from '../errors/lease-lost-error.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { JobContext } from '../executor/job-context.js';
import type { ExecutorEvents } from '../executor/executor.js';
import type { RunRecorder } from '../executor/run-recorder.js';
import { sleep, type Clock } from '../clock/clock.js';
import type { SimClock } from './sim-clock.js';
import type { SimZooKeeper } from './sim-zookeeper.js';
import { SimZkClient } from './sim-zk-client.js';
import type { SeededRandom } from './seeded-random.js';
import type { SimTrace } from './sim-trace.js';
import { simTime } from './sim-time.js';
import { SimHandlerLoader, type SimHandlerBehaviour } from './sim-handler-loader.js';

/**
 * How every simulated worker names its process: never the real host or pid, so that a seed replays
 * the same anywhere (a member node's size shows in the trace). Of the lengths of the machine most
 * regression seeds were found on (host `vm`, five-digit pids), so that they keep their runs.
 */
const SIM_PROCESS = { host: 'vm', pid: 10000 };

export interface SimWorkerOptions {
  /** The worker id (`drain` and `move` name it); kept across restarts. */
  id: string;
  /** The simulated process: its timers, its sessions; a new one after a crash. */
  process: string;
  clock: SimClock;
  server: SimZooKeeper;
  paths: ZkPaths;
  random: SeededRandom;
  trace: SimTrace;
  sessionTimeoutMs: number;
  jobs: readonly SessionJob[];
  log: Logger;
  /** The handler of each job, as it behaves in this process. */
  behaviour: (job: string, worker: SimWorker) => SimHandlerBehaviour;
  onRun?: Partial<{ [K in keyof ExecutorEvents]: (...args: ExecutorEvents[K]) => void }>;
  /** Where the worker records its runs and the fires it did not run (the history writer's place). */
  recorder?: RunRecorder;
  /** Told of every contradiction a takeover found between the ledgers and the record. */
  onLedgerDisagreement?: (disagreement: LedgerDisagreement) => void;
}

/**
 * One simulated worker process: a small supervisor like `Worker` (which builds real ZooKeeper
 * clients and sleeps on real time): a `WorkerSession` on a new `SimZkClient` session, and when that
 * session ends the session's runs are abandoned and it joins again as a new member, with backoff.
 * Every timer runs on the process's own simulated timers, so freezing or killing the process
 * stops all of it. The network faults of the process (a partition, a slow link) apply to every
 * session it opens while they last.
 */
export class SimWorker {
  readonly time: Clock;
  private zk: SimZkClient | undefined;
  private session: WorkerSession | undefined;
  private dead = false;
  private partitioned = false;
  private latency: { minMs: number; maxMs: number } | undefined;
  private readonly loader: SimHandlerLoader;

  constructor(private readonly opts: SimWorkerOptions) {
    this.time = simTime(opts.clock.timers(opts.process));
    this.loader = new SimHandlerLoader(this.time, (job) => opts.behaviour(job, this));
  }

  get process(): string {
    return this.opts.process;
  }

  /** The current session (undefined between sessions). */
  get client(): SimZkClient | undefined {
    return this.zk;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Starts the supervision loop (returns at once). */
  start(): void {
    this.time.setImmediate(() => void this.supervise());
  }

  private async supervise(): Promise<void> {
    const { opts } = this;
    for (let attempt = 1; !this.dead; ) {
      const zk = new SimZkClient({ server: opts.server, clock: opts.clock, random: opts.random.fork(), trace: opts.trace, process: opts.process, sessionTimeoutMs: opts.sessionTimeoutMs });
      if (this.partitioned) zk.partition();
      if (this.latency) zk.setLatency(this.latency);
      this.zk = zk;
      const joined = await this.join(zk);
      if (this.dead) return;
      if (!joined) {
        await sleep(this.time, Math.min(1000, 100 * 2 ** Math.min(attempt++, 4)));
        continue;
      }
      attempt = 1;
      if (!zk.signal.aborted) await new Promise<void>((resolve) => zk.signal.addEventListener('abort', () => resolve(), { once: true }));
      if (this.dead) return;
      opts.trace.record(opts.process, `session ${zk.state}: abandoning runs, rejoining`);
      this.session?.abandon(new LeaseLostError(`lease lost: ZooKeeper session ${zk.state}`));
      this.session = undefined;
      await sleep(this.time, 100 + opts.random.int(200));
    }
  }

  private async join(zk: SimZkClient): Promise<boolean> {
    const { opts } = this;
    try {
      await zk.start();
    } catch {
      return false;
    }
    const session = new WorkerSession({
      zk,
      paths: opts.paths,
      workerId: opts.id,
      labels: {},
      capacity: 1,
      process: SIM_PROCESS,
      jobs: opts.jobs,
      loader: this.loader,
      log: opts.log,
      time: this.time,
      random: () => opts.random.float(),
      onRun: opts.onRun,
      ...(opts.recorder && { recorder: opts.recorder }),
      onLedgerDisagreement: opts.onLedgerDisagreement,
    });
    this.session = session;
    try {
      await session.start();
      opts.trace.record(opts.process, `joined as ${session.member.name} (session ${zk.sessionId})`);
      return true;
    } catch (err) {
      opts.trace.record(opts.process, `join failed: ${(err as Error).message}`);
      await session.close().catch(() => undefined);
      await zk.close().catch(() => undefined);
      this.session = undefined;
      return false;
    }
  }

  /** The process dies: its session is left to expire on the server. */
  crash(): void {
    if (this.dead) return;
    this.dead = true;
    this.zk?.crash();
    this.opts.clock.kill(this.opts.process);
  }

  freeze(): void {
    this.opts.trace.record(this.opts.process, 'fault: process frozen');
    this.opts.clock.freeze(this.opts.process);
  }

  thaw(): void {
    this.opts.trace.record(this.opts.process, 'fault: process thawed');
    this.opts.clock.thaw(this.opts.process);
  }

  partition(): void {
    this.partitioned = true;
    this.zk?.partition();
  }

  heal(): void {
    this.partitioned = false;
    this.zk?.heal();
  }

  slow(latency: { minMs: number; maxMs: number } | undefined): void {
    this.latency = latency;
    this.zk?.setLatency(latency ?? { minMs: 0.05, maxMs: 1 });
  }

  /** Ends the session gracefully at the end of a simulation (not a fault). */
  async stop(): Promise<void> {
    this.dead = true;
    await this.session?.close().catch(() => undefined);
    await this.zk?.close().catch(() => undefined);
  }

  /** For handlers: the session the run belongs to. */
  sessionOf(ctx: JobContext): bigint {
    void ctx;
    return this.zk?.serverSessionId ?? 0n;
  }
}
