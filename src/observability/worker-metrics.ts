import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunOutcome } from '../model/progress-record.js';
import type { SessionState } from '../zk/session-state.js';
import { JobRunMetrics } from './job-run-metrics.js';
import { BucketCounts, bucketPrefixes } from './bucket-counts.js';
import { JobGauge } from './job-gauge.js';

export const FIRE_LATENESS = {
  name: 'zkshard_fire_lateness_seconds',
  help: 'Time from a scheduled fire time to its run starting (regular fires only)',
} as const;

/** `zkshard_fire_lateness_seconds`' upper bounds, seconds. */
export const FIRE_LATENESS_BUCKETS: readonly number[] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5];

const LATENESS_BUCKETS = bucketPrefixes(FIRE_LATENESS.name, FIRE_LATENESS_BUCKETS);

export const ITEMS_OWNED = { name: 'zkshard_items_owned', help: 'Items assigned to this worker, by job' } as const;
export const ITEMS_RUNNING = { name: 'zkshard_items_running', help: 'Items running now on this worker, by job' } as const;
export const ITEMS_STALLED = {
  name: 'zkshard_items_stalled',
  help: 'Owned, enabled items whose fire instant passed without a begin, a recorded miss or a recorded skip (being recovered), by job',
} as const;
export const ASSIGNMENT_GENERATION = { name: 'zkshard_assignment_generation', help: 'Generation of the latest assignment seen, by job' } as const;
export const JOB_CODE_MISMATCH = {
  name: 'zkshard_job_code_mismatch',
  help: "1 while the definition in ZooKeeper names another handler or command than this worker's file (the worker runs its own), by job",
} as const;

/** What the metrics read at scrape time from the worker's current session. */
export interface WorkerMetricsSource {
  isLeader(): boolean;
  /** How many items are owned, by job (every job, owned items or not). */
  ownedCounts(): Iterable<readonly [string, number]>;
  /** How many items run now, by job (jobs with none may be left out). */
  runningCounts(): Iterable<readonly [string, number]>;
  /** Stalled items (a fire instant passed without a begin or a record) as `job#item` keys. */
  stalled?(): readonly string[];
  /** Items waiting on ZooKeeper now: being begun, being released (see `Executor.ledgerWaits`). */
  ledgerWaits?(): { begin: number; release: number };
}

const SESSION_STATES: readonly SessionState[] = ['connecting', 'connected', 'suspended', 'reconnected', 'lost', 'expired', 'closed'];

/**
 * A worker's Prometheus metrics (docs/METRICS.md). Labels are bounded: `zkshard_job` (job names from
 * the configuration; not `job`, which Prometheus sets to the scrape job), `outcome`, `op`, `state`;
 * never fire ids, items or error texts. One instance per process, across ZooKeeper sessions.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private source: WorkerMetricsSource | undefined;
  private sessionState: SessionState = 'connecting';
  /** The runs started and finished by job, outside the registry (see `JobRunMetrics`). */
  private readonly runs = new JobRunMetrics();
  /** `zkshard_fire_lateness_seconds`, outside the registry too: observed on every run (see `BucketCounts`). */
  private readonly lateness = new BucketCounts(FIRE_LATENESS_BUCKETS);
  /** The gauges by job, outside the registry too (see `JobGauge`). */
  private readonly assignmentGeneration = new JobGauge(ASSIGNMENT_GENERATION);
  private readonly codeMismatch = new JobGauge(JOB_CODE_MISMATCH);
  private readonly itemsOwned = new JobGauge(ITEMS_OWNED);
  private readonly itemsRunning = new JobGauge(ITEMS_RUNNING);
  private readonly itemsStalled = new JobGauge(ITEMS_STALLED);

  readonly rebalances = new Counter({ name: 'zkshard_rebalances_total', help: 'Assignment writes this worker made as leader' , registers: [this.registry] });
  readonly oversizedAssignmentNodes = new Gauge({
    name: 'zkshard_assignment_nodes_oversized',
    help: 'Assignment nodes this leader leaves unwritten because they would be larger than 256 KiB (their jobs keep their owners; 0 on other workers)',
    registers: [this.registry],
  });
  readonly malformedRecords = new Counter({
    name: 'zkshard_malformed_records_total',
    help: 'Records read from ZooKeeper that did not decode and were left alone (each stored version once), by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly zkReconnects = new Counter({ name: 'zkshard_zk_reconnects_total', help: 'Reconnections to ZooKeeper on the same session', registers: [this.registry] });
  readonly zkSessionsLost = new Counter({ name: 'zkshard_zk_sessions_lost_total', help: 'ZooKeeper sessions lost or expired (the worker rejoined as a new member)', registers: [this.registry] });
  readonly zkRequestDuration = new Histogram({
    name: 'zkshard_zk_request_duration_seconds',
    help: 'ZooKeeper request latency, by operation',
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  constructor() {
    const metrics = this;
    new Gauge({
      name: 'zkshard_zk_session_state',
      help: 'ZooKeeper session state: 1 for the current state',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        for (const state of SESSION_STATES) this.set({ state }, state === metrics.sessionState ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zkshard_leader',
      help: '1 when this worker is the leader',
      registers: [this.registry],
      collect() {
        this.set(metrics.source?.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zkshard_items_waiting_on_zookeeper',
      help: 'Items of this worker waiting on ZooKeeper now: their begin or their release not yet written, by phase',
      labelNames: ['phase'],
      registers: [this.registry],
      collect() {
        const waits = metrics.source?.ledgerWaits?.() ?? { begin: 0, release: 0 };
        this.set({ phase: 'begin' }, waits.begin);
        this.set({ phase: 'release' }, waits.release);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where scrape-time gauges read from (the worker). */
  bind(source: WorkerMetricsSource): void {
    this.source = source;
  }

  onSessionState(state: SessionState, previous: SessionState): void {
    this.sessionState = state;
    if (state === 'reconnected') this.zkReconnects.inc();
    if ((state === 'lost' || state === 'expired') && previous !== state) this.zkSessionsLost.inc();
  }

  /**
   * Counts a run started: `latenessMs` for a fire due by the schedule, `failover` for an
   * interrupted fire run again, `missed` fires its begin recorded. Told after the entries of an
   * instant (the executor's `started`), never between them.
   */
  onRunStarted(job: string, latenessMs: number | undefined, failover: boolean, missed: number | undefined): void {
    this.runs.onRunStarted(job, failover, missed);
    if (latenessMs !== undefined) this.lateness.observe(Math.max(0, latenessMs) / 1000);
  }

  /** Counts a fire the overlap policy dropped (the item still ran). */
  onFireSkipped(job: string): void {
    this.runs.onFireSkipped(job);
  }

  onRunFinished(job: string, outcome: RunOutcome, durationMs: number): void {
    this.runs.onRunFinished(job, outcome, durationMs);
  }

  /** The generation of the job's latest assignment seen. */
  onAssignment(job: string, generation: number): void {
    this.assignmentGeneration.set(job, generation);
  }

  /** Whether the job's definition in ZooKeeper names another handler or command than this worker's file. */
  onCodeMismatch(job: string, mismatch: boolean): void {
    this.codeMismatch.set(job, mismatch ? 1 : 0);
  }

  /** Prometheus text format: the registry's metrics, then the gauges and runs by job and the fire lateness. */
  async text(): Promise<string> {
    const registered = await this.registry.metrics();
    const source = this.source;
    this.itemsOwned.replace(source?.ownedCounts() ?? []);
    this.itemsRunning.replace(source?.runningCounts() ?? []);
    this.itemsStalled.replace(countByJob(source?.stalled?.() ?? []));
    const gauges = [this.assignmentGeneration, this.codeMismatch, this.itemsOwned, this.itemsRunning, this.itemsStalled].map((g) => g.text()).join('\n\n');
    const lateness = [`# HELP ${FIRE_LATENESS.name} ${FIRE_LATENESS.help}`, `# TYPE ${FIRE_LATENESS.name} histogram`];
    this.lateness.write(lateness, FIRE_LATENESS.name, LATENESS_BUCKETS, '');
    return `${registered}\n${gauges}\n\n${this.runs.text()}\n\n${lateness.join('\n')}\n`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** How many of `job#item` keys there are per job. */
function countByJob(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const job = key.slice(0, key.lastIndexOf('#'));
    counts.set(job, (counts.get(job) ?? 0) + 1);
  }
  return counts;
}
