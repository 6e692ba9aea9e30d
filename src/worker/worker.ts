import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ZkClient } from '../zk/zk-client.js';
import { ZkPaths } from '../zk/zk-paths.js';
import { notAuthorizedIn } from '../zk/zk-errors.js';
import { policyAcl, type ZkAcl, type ZkCredentials } from '../zk/zk-acl.js';
import { NamespaceAclFollower } from '../zk/namespace-acl-follower.js';
import type { ZkTlsOptions } from '../zk/zk-tls.js';
import { LeaseLostError } from '../errors/lease-lost-error.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { HandlerLoader } from '../executor/handler-loader.js';
import { SandboxRunner } from '../executor/sandbox/sandbox-runner.js';
import type { ExecutorEvents } from '../executor/executor.js';
import type { RunRecorder } from '../executor/run-recorder.js';
import { WorkerSession, type SessionJob } from './worker-session.js';
import { WorkerMetrics } from '../observability/worker-metrics.js';
import { WorkerHttpServer, type Readiness } from '../observability/worker-http-server.js';
import { DEFAULTS } from '../defaults.js';
import { untilAborted } from '../clock/clock.js';

export interface WorkerOptions {
  /** ZooKeeper connection string (may include a chroot). */
  connect: string;
  /** Root znode of the fleet. */
  namespace: string;
  /** @default 6000 */
  sessionTimeoutMs?: number;
  /** Largest request sent to ZooKeeper (see `ZkClientOptions.maxRequestBytes`). @default 1000000 */
  maxRequestBytes?: number;
  /** The fleet identity (digest). None: the worker runs in an open namespace, with a warning. */
  credentials?: ZkCredentials;
  /** The other identities every node grants (`zookeeper.acl`). @default [] */
  acl?: readonly ZkAcl[];
  /** Connect over TLS (the servers' `secureClientPort`). @default plain TCP */
  tls?: ZkTlsOptions;
  /** This worker's id (several processes may share one over time). */
  id: string;
  /** @default {} */
  labels?: Record<string, string>;
  /** Relative weight for balancing. @default 1 */
  capacity?: number;
  /** How long running items may finish on shutdown before they are aborted. @default 30000 */
  shutdownGraceMs?: number;
  jobs: readonly SessionJob[];
  /** Fire nothing and take no items while the local clock is off ZooKeeper's by more. @default 5000 */
  maxClockSkewMs?: number;
  /** The local clock, replaceable to simulate a skewed machine. @default Date.now */
  clock?: () => number;
  /** Relative handler paths resolve against this directory. */
  baseDir: string;
  logger: Logger;
  /** Serve `/metrics`, `/healthz` and `/readyz` here; off when absent. Port 0 picks a free one. */
  http?: { host?: string; port: number };
  /** Metrics to count into. @default a new `WorkerMetrics` when `http` is set */
  metrics?: WorkerMetrics;
  /** Executor events, forwarded (for the demo view and tests). */
  onRun?: Partial<{ [K in keyof ExecutorEvents]: (...args: ExecutorEvents[K]) => void }>;
  /** Where every run and missed or skipped fire is recorded (`HistoryWriter`); the caller closes it after `shutdown()`. */
  recorder?: RunRecorder;
}

export type WorkerState = 'initialized' | 'connecting' | 'running' | 'rejoining' | 'stopping' | 'stopped';

export interface WorkerEvents {
  state: [state: WorkerState];
  /** A new session joined the group (first start, or rejoin after a lost session). */
  joined: [member: string];
}

/**
 * A zkshard worker: joins the fleet, leads when elected, fires and runs its items. When its
 * session is lost it aborts its runs at once (lease rule) and rejoins as a new member.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  private current: WorkerState = 'initialized';
  private session: WorkerSession | undefined;
  private zk: ZkClient | undefined;
  private readonly paths: ZkPaths;
  private readonly loader: HandlerLoader;
  private readonly sandbox: SandboxRunner;
  private readonly log: Logger;
  private stopping: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  readonly metrics: WorkerMetrics | undefined;
  private http: WorkerHttpServer | undefined;

  constructor(private readonly opts: WorkerOptions) {
    super();
    this.paths = new ZkPaths(opts.namespace);
    this.loader = new HandlerLoader(opts.baseDir);
    this.log = opts.logger.child({ worker: opts.id });
    // Warm sandboxes for the kinds the configured jobs ask for; they outlive sessions.
    const kinds = new Set(opts.jobs.map((j) => j.definition.sandbox).filter((k) => k === 'thread' || k === 'process'));
    // A sandbox being stopped is killed no later than the lease deadline of the current session.
    this.sandbox = new SandboxRunner({ log: this.log, prewarm: [...kinds], leaseRemainingMs: () => this.zk?.leaseRemainingMs() ?? Number.POSITIVE_INFINITY });
    this.metrics = opts.metrics ?? (opts.http ? new WorkerMetrics() : undefined);
    this.metrics?.bind({
      isLeader: () => this.isLeader,
      ownedCounts: () => this.session?.scheduler.ownedCounts() ?? [],
      runningCounts: () => this.session?.executor.runningCounts() ?? [],
      stalled: () => this.session?.scheduler.stalledItems() ?? [],
      ledgerWaits: () => this.session?.executor.ledgerWaits() ?? { begin: 0, release: 0 },
    });
  }

  /** The HTTP endpoint's port (0 when there is none). */
  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  /** Ready: connected to ZooKeeper, registered as a member, every job's assignment read. */
  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.current !== 'running') reasons.push(`worker is ${this.current}`);
    const zkState = this.zk?.state ?? 'latent';
    if (zkState !== 'connected' && zkState !== 'reconnected') reasons.push(`ZooKeeper session is ${zkState}`);
    if (this.memberName === undefined) reasons.push('not registered as a member');
    else if (!this.session?.assignmentsCurrent) reasons.push('job assignments not read yet');
    const stalled = this.session?.scheduler.stalledItems() ?? [];
    if (stalled.length > 0) reasons.push(`items stalled (a fire instant passed without a begin or a record; recovering): ${stalled.slice(0, 20).join(', ')}${stalled.length > 20 ? ` and ${stalled.length - 20} more` : ''}`);
    return { ready: reasons.length === 0, reasons };
  }

  get state(): WorkerState {
    return this.current;
  }

  /** The current member name, when joined. */
  get memberName(): string | undefined {
    try {
      return this.session?.member.name;
    } catch {
      return undefined;
    }
  }

  get isLeader(): boolean {
    return this.session?.isLeader ?? false;
  }

  /** Items owned per job in the current session. */
  owned(): Record<string, number[]> {
    return this.session?.scheduler.owned() ?? {};
  }

  /**
   * Joins the fleet; resolves once the first session is running. While ZooKeeper cannot be
   * reached it keeps trying (with backoff, not ready meanwhile) until it can, or until `shutdown()`.
   */
  async start(): Promise<void> {
    if (this.current !== 'initialized') throw new IllegalStateError(`worker: start() in state ${this.current}`);
    this.setState('connecting');
    if (!this.opts.credentials) {
      this.log.warn({ namespace: this.opts.namespace }, 'no ZooKeeper credentials (ZKSHARD_ZK_AUTH or zookeeper.auth): anyone who reaches ZooKeeper can read and drive this fleet (docs/SECURITY.md)');
    }
    this.sandbox.start();
    if (this.opts.http && this.metrics) {
      this.http = new WorkerHttpServer({ ...this.opts.http, metrics: this.metrics, readiness: () => this.readiness(), log: this.log.child({ component: 'http' }) });
      await this.http.start();
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.join();
        break;
      } catch (err) {
        if (this.stopSignal.signal.aborted) return;
        const refused = notAuthorizedIn(err);
        if (refused) {
          // Refused by ZooKeeper: retrying cannot help, and a worker never half-joins.
          this.log.error({ err: refused, user: refused.user }, 'ZooKeeper refused this worker: not joining');
          await this.http?.close();
          this.setState('stopped');
          throw refused;
        }
        const delay = Math.min(5000, 250 * 2 ** Math.min(attempt, 5));
        this.log.warn({ err, attempt, delayMs: delay }, 'cannot join the fleet yet; retrying');
        await sleep(delay, undefined, { signal: this.stopSignal.signal }).catch(() => undefined);
        if (this.stopSignal.signal.aborted) return;
      }
    }
    this.loop = this.superviseSessions();
  }

  /**
   * Leaves gracefully: stop firing, announce draining so the leader moves the items at once, let
   * runs finish (up to `shutdownGraceMs`, then abort them), leave the group, close the session.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    if (this.current === 'initialized') {
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    this.stopSignal.abort();
    const grace = this.opts.shutdownGraceMs ?? DEFAULTS.worker.shutdownGraceMs;
    try {
      await this.session?.shutdown(grace);
    } catch (err) {
      this.log.warn({ err }, 'error while draining');
    }
    await this.zk?.close();
    await this.loop?.catch(() => undefined);
    await this.sandbox.close();
    await this.http?.close();
    this.setState('stopped');
  }

  private async join(): Promise<void> {
    const zk = new ZkClient({
      connect: this.opts.connect,
      sessionTimeoutMs: this.opts.sessionTimeoutMs ?? DEFAULTS.zookeeper.sessionTimeoutMs,
      maxRequestBytes: this.opts.maxRequestBytes,
      credentials: this.opts.credentials,
      acl: policyAcl(this.opts.credentials, this.opts.acl),
      tls: this.opts.tls,
      logger: this.log,
      onRequest: this.metrics ? (op, ms) => this.metrics!.zkRequestDuration.observe({ op }, ms / 1000) : undefined,
    });
    if (this.metrics) zk.on('state', (state, previous) => this.metrics!.onSessionState(state, previous));
    await zk.start();
    if (this.opts.credentials) {
      try {
        await new NamespaceAclFollower(zk, this.paths.root, zk.acl, this.log.child({ component: 'acl' })).start();
      } catch (err) {
        await zk.close();
        throw err;
      }
    }
    if (this.stopSignal.signal.aborted) {
      // shutdown() came while we were connecting: nobody would close this session later.
      await zk.close();
      throw new IllegalStateError('worker: shut down while joining');
    }
    const session = new WorkerSession({
      zk,
      paths: this.paths,
      workerId: this.opts.id,
      labels: this.opts.labels ?? {},
      capacity: this.opts.capacity ?? DEFAULTS.worker.capacity,
      jobs: this.opts.jobs,
      loader: this.loader,
      sandbox: this.sandbox,
      log: this.log,
      onRun: this.opts.onRun,
      recorder: this.opts.recorder,
      maxClockSkewMs: this.opts.maxClockSkewMs,
      clock: this.opts.clock,
      metrics: this.metrics,
    });
    this.zk = zk;
    this.session = session;
    try {
      await session.start();
    } catch (err) {
      await session.close().catch(() => undefined);
      await zk.close();
      throw err;
    }
    this.setState('running');
    this.emit('joined', session.member.name);
  }

  /** Waits for the session to end; if it was not us ending it, rejoins with backoff. */
  private async superviseSessions(): Promise<void> {
    for (;;) {
      const zk = this.zk!;
      await untilAborted(zk.signal, this.stopSignal.signal);
      if (this.stopSignal.signal.aborted) return;
      this.log.warn({ state: zk.state }, 'session ended: aborting runs and rejoining as a new member');
      this.session?.abandon(new LeaseLostError(`lease lost: ZooKeeper session ${zk.state}`));
      this.setState('rejoining');
      for (let attempt = 1; !this.stopSignal.signal.aborted; attempt++) {
        try {
          await this.join();
          break;
        } catch (err) {
          // Each attempt already waits up to the session timeout for a server; keep the pause short
          // so that the worker is back within moments of ZooKeeper returning.
          const delay = Math.min(1000, 100 * 2 ** Math.min(attempt, 4));
          this.log.warn({ err, attempt, delayMs: delay }, 'rejoin failed; retrying');
          await sleep(delay, undefined, { signal: this.stopSignal.signal }).catch(() => undefined);
        }
      }
      if (this.stopSignal.signal.aborted) return;
    }
  }

  private setState(next: WorkerState): void {
    if (this.current === next) return;
    this.current = next;
    this.log.info({ state: next }, 'worker state');
    this.emit('state', next);
  }
}
