import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { LedgerDisagreement } from '../model/ledger-view.js';
import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { ZkSession } from '../zk/zk-session.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import { systemClock, type Clock } from '../clock/clock.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { NodeCache } from '../zk/node-cache.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { GroupMember } from '../membership/group-member.js';
import { RUN_PROTOCOL } from '../membership/member-info.js';
import { readMemberNodes } from '../membership/read-members.js';
import { checkFleetProtocol } from '../membership/protocol-check.js';
import { RequestSlots } from '../zk/request-slots.js';
import { LeaderLatch } from '../election/leader-latch.js';
import { LeaderCoordinator } from '../leader/leader-coordinator.js';
import { JobStore } from '../api/job-store.js';
import { readJob } from '../model/job-record.js';
import { itemsOf, type AssignmentRecord } from '../model/assignment-record.js';
import { assignmentGroupOf, readAssignmentGroup, type AssignmentGroup } from '../model/assignment-group.js';
import type { Decoded } from '../model/decoded.js';
import { readTrigger } from '../model/trigger-request.js';
import { formatCode, sameCode, withCode } from '../model/job-code.js';
import { sameJson } from '../model/json-codec.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import { RunLedger, type LedgerMember } from '../executor/run-ledger.js';
import { BeginFence } from './begin-fence.js';
import { FenceMoves } from './fence-moves.js';
import { StageStore } from '../executor/stage-store.js';
import { Executor, type ExecutorEvents } from '../executor/executor.js';
import { sharedSchedule } from '../cron/shared-schedule.js';
import { recordNotes, withMember, withSchedules, type RunRecorder } from '../executor/run-recorder.js';
import type { HandlerLoader } from '../executor/handler-loader.js';
import type { SandboxRunner } from '../executor/sandbox/sandbox-runner.js';
import { LedgerReads } from '../scheduler/ledger-reads.js';
import { LEDGER_PARTS } from '../model/member-ledger.js';
import { FireScheduler } from '../scheduler/fire-scheduler.js';
import { VERSION } from '../version.js';
import { ClockCheck, type ClockReading } from './clock-check.js';
import type { WorkerMetrics } from '../observability/worker-metrics.js';
import { DEFAULTS } from '../defaults.js';
import { JobRefreshQueue } from './job-refresh-queue.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';

/** How many jobs a starting worker registers (and reads the state of) at once. */
const REGISTER_CONCURRENCY = 64;

export interface SessionJob {
  definition: JobDefinition;
  overwrite: boolean;
}

export interface WorkerSessionOptions {
  /** The session everything is bound to (`ZkClient`, or the simulation's `SimZkClient`). */
  zk: ZkSession & { leaseRemainingMs?(): number };
  paths: ZkPaths;
  workerId: string;
  labels: Record<string, string>;
  capacity: number;
  /**
   * The process as its member node names it (for operators). The simulation gives its own, so that
   * a seed's run does not depend on the machine it replays on. @default this host name and pid
   */
  process?: { host: string; pid: number };
  jobs: readonly SessionJob[];
  loader: HandlerLoader;
  /** Runs the handlers of jobs with `sandbox: thread | process` (owned by the worker: it outlives sessions). */
  sandbox?: SandboxRunner;
  log: Logger;
  /** Fire nothing and take no items while the local clock is off ZooKeeper's by more. @default 5000 */
  maxClockSkewMs?: number;
  /** The local clock (replaceable to simulate skew). @default `time.now` */
  clock?: () => number;
  /**
   * Time and timers of every component built on this session (scheduler, executor, ledger, clock
   * check, caches, election, leader): the deterministic simulation runs them on its clock. @default systemClock
   */
  time?: Clock;
  /** Source of randomness in [0, 1) for every jitter (backoffs, history spreading). @default Math.random */
  random?: () => number;
  /** Where run, leader and assignment events are counted. */
  metrics?: WorkerMetrics;
  /** Forwarded executor events (for tests, metrics, the demo view). */
  onRun?: Partial<{ [K in keyof ExecutorEvents]: (...args: ExecutorEvents[K]) => void }>;
  /** Where every run and missed or skipped fire is recorded (the history writer); none when absent. */
  recorder?: RunRecorder;
  /** Told of every contradiction a takeover found between the members' ledgers and the item's record (logged besides). */
  onLedgerDisagreement?: (disagreement: LedgerDisagreement) => void;
}

/**
 * Everything a worker does on one ZooKeeper session: membership, election, leading, firing and
 * running. When the session ends the whole object is dropped and a new one is built.
 */
export class WorkerSession {
  readonly member: GroupMember;
  readonly executor: Executor;
  private readonly ledger: RunLedger;
  readonly scheduler: FireScheduler;
  private latchRef: LeaderLatch | undefined;
  private coordinator: LeaderCoordinator | undefined;
  /** Starts the coordinator while this member leads, again after a backoff when its start fails. */
  private readonly leading: RefreshLoop;
  private readonly caches: Array<NodeCache | ChildrenCache> = [];
  /** Items each trigger request was already handed to, per `job/request`. */
  private readonly handledTriggers = new Map<string, Set<number>>();
  private readonly triggerCaches = new Map<string, ChildrenCache>();
  /** The definition each job runs by: ZooKeeper's, with the handler/command of the local file. */
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly localJobs = new Map<string, JobDefinition>();
  /** Jobs whose stored handler/command differs from the local one (published in the member node). */
  private readonly codeMismatch = new Set<string>();
  /** What was last reported per node (`path` → stored version and verdict), so each is reported once. */
  private readonly reported = new Map<string, string>();
  /** Each declared job's definition cache, and the assignment node its assignment is in. */
  private readonly jobCaches = new Map<string, { definition: NodeCache; group: number }>();
  /** A declared job's definition changed (what a leader here follows: FollowedDefinitions). */
  private readonly definitionEvents = new EventEmitter<{ changed: [job: string] }>();
  /** The assignment nodes holding the declared jobs' assignments, and those jobs. */
  private readonly groupCaches = new Map<number, { cache: NodeCache; jobs: string[] }>();
  /** Each assignment node as last decoded, with the zxid of the write it was decoded from. */
  private readonly decodedGroups = new Map<number, { mzxid: bigint | undefined; read: Decoded<AssignmentGroup | undefined> }>();
  /** What each job's scheduler state was last set from (generation, our items, disabled ones). */
  private readonly appliedAssignments = new Map<string, string>();
  /** Jobs to refresh (definition or assignment changed), a slice per turn. */
  private readonly refreshes: JobRefreshQueue;
  private readonly log: Logger;
  private closed = false;
  private readonly clockCheck: ClockCheck;
  /** The member node version begins check (see BeginFence). */
  private readonly beginFence: BeginFence;
  /** Which moves of our member node's version were the leader's (see FenceMoves). */
  private readonly fenceMoves: FenceMoves;

  private readonly time: Clock;
  private readonly retry: RetryTiming;

  constructor(private readonly opts: WorkerSessionOptions) {
    this.log = opts.log;
    for (const j of opts.jobs) this.localJobs.set(j.definition.name, j.definition);
    this.time = opts.time ?? systemClock;
    this.retry = { timers: this.time, backoff: { random: opts.random } };
    this.refreshes = new JobRefreshQueue((job) => this.refreshJob(job), this.time, (err, job) => this.log.error({ err, job }, 'could not apply the job\'s definition or assignment'));
    this.leading = new RefreshLoop(() => this.lead(), {
      ...this.retry,
      isFinal: (err) => this.closed || err instanceof ZkClosedError || opts.zk.signal.aborted,
      onRetry: (err, delayMs) => this.log.warn({ err, delayMs }, 'leader coordinator failed to start; retrying'),
    });
    const random = opts.random ?? Math.random;
    this.member = new GroupMember(
      opts.zk,
      opts.paths,
      {
        id: opts.workerId,
        host: opts.process?.host ?? hostname(),
        pid: opts.process?.pid ?? process.pid,
        jobs: opts.jobs.map((j) => j.definition.name),
        labels: opts.labels,
        capacity: opts.capacity,
        state: 'active',
        startedAt: new Date(this.time.now()).toISOString(),
        version: VERSION,
        protocol: RUN_PROTOCOL,
        identity: opts.zk.user,
      },
      opts.log.child({ component: 'membership' }),
      opts.random ? Math.floor(opts.random() * 2 ** 32).toString(16).padStart(8, '0') : undefined,
      this.retry,
    );
    const member = this.member;
    const beginFence = new BeginFence(0, () => this.assignmentsCaughtUp(), opts.log.child({ component: 'membership' }));
    this.beginFence = beginFence;
    const fenceMoves = new FenceMoves();
    this.fenceMoves = fenceMoves;
    member.onOwnWrite((mzxid) => fenceMoves.ownWrite(mzxid));
    member.onFenceMoved((version, mzxid) => {
      fenceMoves.moved(version, mzxid);
      beginFence.moved(version);
    });
    const identity: LedgerMember = {
      get name(): string {
        return member.name;
      },
      workerId: opts.workerId,
      fenceVersion: () => member.fenceVersion(),
      refreshFence: () => member.refreshFence(),
      beginFence: () => beginFence.version,
      awaitBeginFence: (above) => beginFence.above(above),
      owns: (job, item, epoch) => this.scheduler.owns(job, item, epoch),
      fenceMovesTookNoRun: (from, to) => fenceMoves.tookNoRun(from, to),
    };
    this.clockCheck = new ClockCheck(opts.zk, opts.paths, opts.maxClockSkewMs ?? DEFAULTS.worker.maxClockSkewMs, opts.log.child({ component: 'clock' }), DEFAULTS.worker.clockCheckIntervalMs, opts.clock ?? (() => this.time.now()), this.time);
    const ledger = new RunLedger(opts.zk, opts.paths, identity, opts.log.child({ component: 'run-ledger' }), this.clockCheck, this.time, random);
    this.ledger = ledger;
    // The ledger reports a malformed progress or history record once per version (and logs it).
    ledger.onMalformed = (err) => this.opts.metrics?.malformedRecords.inc({ kind: err.path.endsWith('/history') ? 'history' : 'progress' });
    const recorder = opts.recorder && withMember(withSchedules(opts.recorder, (job) => this.definitions.get(job)), member);
    if (recorder) ledger.onNotesRecorded = (job, item, notes) => recordNotes(recorder, job, item, notes, opts.workerId, this.time.now());
    ledger.scheduleOf = (job) => this.scheduleOf(job);
    ledger.firesWithin = (job, item, withinMs) => this.scheduler.firesWithin(job, item, withinMs);
    this.executor = new Executor({
      ledger,
      stages: new StageStore(opts.zk, opts.paths, ledger, this.time),
      loader: opts.loader,
      workerId: opts.workerId,
      definitionOf: (job) => this.definitions.get(job),
      log: opts.log.child({ component: 'executor' }),
      leaseHeld: () => opts.zk.holdsLease(),
      leaseRemainingMs: opts.zk.leaseRemainingMs ? () => opts.zk.leaseRemainingMs!() : undefined,
      sandbox: opts.sandbox,
      clock: this.time,
      random,
      recorder,
    });
    for (const [event, fn] of Object.entries(opts.onRun ?? {})) this.executor.on(event as keyof ExecutorEvents, fn as never);
    const metrics = opts.metrics;
    if (metrics) {
      this.executor.on('started', (req, _token, enteredAt) =>
        metrics.onRunStarted(req.job, req.reason === 'schedule' ? enteredAt - req.fireTime.getTime() : undefined, req.reason === 'failover', req.recorded?.missed?.count),
      );
      this.executor.on('finished', (r) => metrics.onRunFinished(r.job, r.outcome, r.durationMs));
      this.executor.on('notStarted', (req, why) => {
        if (why === 'overlap') metrics.onFireSkipped(req.job);
      });
    }
    const schedulerLog = opts.log.child({ component: 'scheduler' });
    this.scheduler = new FireScheduler({
      zk: opts.zk,
      paths: opts.paths,
      executor: this.executor,
      ledger,
      log: schedulerLog,
      memberName: () => member.name,
      clock: this.time,
      random,
      clockTrusted: () => this.clockCheck.trustNow(),
      ledgerReads: new LedgerReads(opts.zk, opts.paths, LEDGER_PARTS, schedulerLog),
      onLedgerDisagreement: opts.onLedgerDisagreement,
    });
  }

  /**
   * Resolves once every assignment change announced so far (each watch that fired) is read and
   * applied to the scheduler: what BeginFence waits for before begins check a new fence.
   */
  private async assignmentsCaughtUp(): Promise<void> {
    for (;;) {
      const reading = [...this.groupCaches.values()].filter((g) => !g.cache.idle);
      if (reading.length === 0) {
        await this.refreshes.idle();
        if ([...this.groupCaches.values()].every((g) => g.cache.idle)) return;
      } else await Promise.all(reading.map((g) => g.cache.settled()));
    }
  }

  /** Whether every declared job's definition and assignment have been read (after `start()`). */
  get assignmentsCurrent(): boolean {
    // (A node that does not decode counts as read: it is reported, and the leader writes it again.)
    return !this.closed && this.opts.jobs.every((j) => {
      const read = this.assignmentOf(j.definition.name);
      return !read.ok || read.value !== undefined;
    });
  }

  get isLeader(): boolean {
    return this.latchRef?.isLeader ?? false;
  }

  async start(): Promise<void> {
    const { zk, paths } = this.opts;
    // Nothing is written into a fleet of another run protocol, not even a job definition.
    checkFleetProtocol(await readMemberNodes(zk, paths));
    const store = new JobStore(zk, paths, this.log.child({ component: 'job-store' }));
    // Jobs are registered REGISTER_CONCURRENCY at a time, each as soon as one before it is done (a
    // window, not waves waiting for their slowest): a fleet with thousands of jobs starts in a few
    // round trips' time, not thousands.
    const jobs = this.opts.jobs;
    const window = new RequestSlots(REGISTER_CONCURRENCY);
    // Once one job's work failed (the start fails with it), the jobs still waiting are not begun.
    let failed = false;
    const inWindow = (work: () => Promise<void>): Promise<void> =>
      window.run(async () => {
        if (failed) return;
        try {
          await work();
        } catch (err) {
          failed = true;
          throw err;
        }
      });
    await Promise.all(
      jobs.map((job) =>
        inWindow(async () => {
          const { outcome, definition } = await store.register(job.definition, job.overwrite);
          // (A definition that does not decode, outcome `malformed`, is reported when the job's cache reads it.)
          if (outcome === 'kept' && !sameJson(withCode(definition, job.definition), withCode(job.definition, job.definition))) {
            this.log.warn({ job: job.definition.name }, 'job already defined in ZooKeeper with a different schedule, sharding or policies; using those (set overwrite: true to replace them)');
          }
        }),
      ),
    );
    // Check the clock before joining, so that a skewed worker is never given items.
    await zk.mkdirp(paths.root);
    const reading = await this.clockCheck.start();
    this.member.prepare({ clock: reading });
    this.scheduler.setPaused(!reading.ok);
    this.clockCheck.on('reading', (r) => void this.onClockReading(r));
    // Every job's caches are read before joining (in the same window): once the member
    // exists the leader may hand it items, and it must be able to run them at once.
    // The assignment nodes of the declared jobs, each read once, before any job's other caches.
    for (const job of jobs) {
      const name = job.definition.name;
      const group = assignmentGroupOf(name);
      let entry = this.groupCaches.get(group);
      if (!entry) {
        // A node that cannot be read (no permission) gives this worker no items of its jobs, rather
        // than their last ones for as long as it stays so (and begins wait for no such cache).
        entry = { cache: new NodeCache(zk, paths.assignmentGroup(group), this.log, this.retry, { unreadableAsAbsent: true }), jobs: [] };
        this.groupCaches.set(group, entry);
        this.caches.push(entry.cache);
        entry.cache.on('changed', (node) => {
          if (node) this.fenceMoves.assignmentWritten(node.stat.mzxid);
          if (this.member.registered) for (const j of this.groupCaches.get(group)!.jobs) if (this.assignmentMoved(j)) this.refreshes.add(j);
        });
      }
      entry.jobs.push(name);
    }
    await Promise.all([...this.groupCaches.values()].map((g) => inWindow(() => g.cache.start())));
    const watchJob = async (name: string): Promise<void> => {
      const def = new NodeCache(zk, paths.job(name), this.log, this.retry);
      this.caches.push(def);
      this.jobCaches.set(name, { definition: def, group: assignmentGroupOf(name) });
      def.on('changed', () => {
        if (this.member.registered) this.refreshes.add(name);
        this.definitionEvents.emit('changed', name);
      });
      await def.start();
      // (The triggers node is made with the job; a cache of a missing one waits for it to appear.)
      const triggers = new ChildrenCache(zk, paths.triggers(name), { withData: true, log: this.log, retry: this.retry });
      this.caches.push(triggers);
      triggers.on('changed', () => this.runTriggers(name, triggers));
      await triggers.start();
      this.triggerCaches.set(name, triggers);
    };
    await Promise.all(jobs.map((job) => inWindow(() => watchJob(job.definition.name))));
    await this.member.start();
    // A member of another protocol may have joined between that check and our join: if it is older
    // than us it would lead before us, so we leave (the worker retries the join).
    checkFleetProtocol(await readMemberNodes(zk, paths), sequenceOf(this.member.name));
    // Every job once, a slice per turn (JobRefreshQueue), before the first fire is armed.
    for (const job of jobs) this.refreshes.add(job.definition.name);
    await this.refreshes.idle();
    // Closed meanwhile (shut down, or the session ended): nothing more is started on it.
    if (this.closed) throw new IllegalStateError('worker session: closed while starting');
    const latch = new LeaderLatch(zk, paths, this.member.name, this.log.child({ component: 'election' }), this.retry);
    this.latchRef = latch;
    latch.on('isLeader', () => void this.leading.request());
    latch.on('notLeader', () => this.unlead());
    this.ledger.start();
    this.scheduler.start();
    for (const [job, triggers] of this.triggerCaches) this.runTriggers(job, triggers);
    await latch.start();
  }

  /** Leaves gracefully: stop firing, announce draining (items move now), finish or abort runs, leave. */
  async shutdown(graceMs: number): Promise<void> {
    this.scheduler.stop();
    // Run histories behind (see HISTORY_WRITE_INTERVAL_MS) are written before the items can move.
    await this.ledger.flushHistories().catch((err: unknown) => this.log.warn({ err }, 'could not write run histories'));
    try {
      await this.member.update({ state: 'draining' });
    } catch (err) {
      this.log.warn({ err }, 'could not announce draining');
    }
    await this.executor.drain(graceMs);
    await this.close();
  }

  /** The session is lost: abort everything at once; nothing can be written any more. */
  abandon(reason: Error): void {
    this.scheduler.stop();
    this.executor.abortAll(reason);
    void this.close();
  }

  /** Releases in reverse order of start. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.refreshes.close();
    this.beginFence.close();
    this.scheduler.stop();
    this.ledger.close();
    this.clockCheck.close();
    this.leading.close();
    this.unlead();
    this.latchRef?.close();
    for (const cache of this.caches.reverse()) cache.close();
    await this.member.close();
  }

  private refreshJob(name: string): void {
    const caches = this.jobCaches.get(name);
    if (this.closed || !caches) return;
    const { definition: defCache } = caches;
    const { paths } = this.opts;
    const read = readJob(defCache.current?.data, paths.job(name), name);
    if (!read.ok) this.reportMalformed('definition', read.error, defCache.current?.stat.mzxid);
    if (!read.ok || !read.value) {
      // No definition, or one that cannot be read: the job is left alone (nothing of it fires here).
      this.definitions.delete(name);
      this.appliedAssignments.delete(name);
      this.scheduler.removeJob(name);
      this.setCodeMismatch(name, false);
      return;
    }
    const local = this.localJobs.get(name)!;
    const stored = read.value;
    const def = withCode(stored, local);
    const mismatch = !sameCode(stored, local);
    if (mismatch && this.firstReport(paths.job(name), `code ${defCache.current?.stat.mzxid}`)) {
      this.log.error(
        { job: name, stored: formatCode(stored), local: formatCode(local) },
        'job definition in ZooKeeper names another handler or command than this worker\'s file; running the local one',
      );
    }
    this.setCodeMismatch(name, mismatch);
    this.definitions.set(name, def);
    const decoded = this.assignmentOf(name);
    if (!decoded.ok) this.reportMalformed('assignment', decoded.error, this.groupCaches.get(caches.group)?.cache.current?.stat.mzxid);
    // An assignment that cannot be read gives this worker no items of the job (the leader rewrites it).
    const record = decoded.ok ? decoded.value : undefined;
    if (record) this.opts.metrics?.onAssignment(name, record.generation);
    const items = itemsOf(record, this.member.name);
    this.appliedAssignments.set(name, signatureOf(record, items));
    this.scheduler.setJob(def, items, record?.disabled ?? [], record?.generation);
    this.runTriggers(name);
  }

  /** A declared job's assignment as its group's node holds it now (decoded once per write of the node). */
  private assignmentOf(job: string): Decoded<AssignmentRecord | undefined> {
    const group = assignmentGroupOf(job);
    const node = this.groupCaches.get(group)?.cache.current;
    let decoded = this.decodedGroups.get(group);
    if (!decoded || decoded.mzxid !== node?.stat.mzxid) {
      decoded = { mzxid: node?.stat.mzxid, read: readAssignmentGroup(node?.data, this.opts.paths.assignmentGroup(group), group) };
      this.decodedGroups.set(group, decoded);
    }
    return decoded.read.ok ? { ok: true, value: decoded.read.value?.jobs.get(job) } : decoded.read;
  }

  /**
   * Whether a write of the job's assignment node changed what the scheduler was set from for it
   * (a write for other jobs of the node leaves it alone: at 10,000 jobs a node holds ~150).
   */
  private assignmentMoved(job: string): boolean {
    const applied = this.appliedAssignments.get(job);
    if (applied === undefined) return true;
    const read = this.assignmentOf(job);
    return !read.ok || signatureOf(read.value, itemsOf(read.value, this.member.name)) !== applied;
  }

  /** Records whether a job's stored code differs from the local one: metric and member node. */
  private setCodeMismatch(job: string, mismatch: boolean): void {
    this.opts.metrics?.onCodeMismatch(job, mismatch);
    if (mismatch === this.codeMismatch.has(job)) return;
    if (mismatch) this.codeMismatch.add(job);
    else this.codeMismatch.delete(job);
    const codeMismatch = [...this.codeMismatch].sort();
    this.member.update({ codeMismatch }).catch((err: unknown) => {
      if (!this.closed) this.log.warn({ err }, 'could not publish the jobs whose stored code differs');
    });
  }

  /** Logs a malformed record (at error) and counts it, once per stored version of the node. */
  private reportMalformed(kind: string, error: MalformedDataError, version: unknown): void {
    if (!this.firstReport(error.path, `malformed ${String(version)}`)) return;
    this.opts.metrics?.malformedRecords.inc({ kind });
    this.log.error({ err: error, path: error.path, kind }, 'malformed record in ZooKeeper; left alone');
  }

  /** True the first time `verdict` is seen for `path` (a new version of the node reports again). */
  private firstReport(path: string, verdict: string): boolean {
    if (this.reported.get(path) === verdict) return false;
    this.reported.set(path, verdict);
    return true;
  }

  private async onClockReading(reading: ClockReading): Promise<void> {
    const published = this.member.current.clock;
    this.scheduler.setPaused(!reading.ok);
    // Publish when the verdict flips or the skew moved noticeably (not on every check).
    if (this.closed || (published && published.ok === reading.ok && Math.abs(published.skewMs - reading.skewMs) < Math.max(100, reading.maxSkewMs / 10))) return;
    try {
      await this.member.update({ clock: reading });
    } catch (err) {
      if (!this.closed) this.log.warn({ err }, 'could not publish clock reading');
    }
  }

  /**
   * Hands pending trigger requests to the scheduler for the items this worker owns now; called on
   * every trigger change and every assignment change, so an item that arrives later still gets a
   * trigger made before. (A fire is never run twice: the run ledger refuses duplicates.)
   */
  private runTriggers(job: string, triggers: ChildrenCache | undefined = this.triggerCaches.get(job)): void {
    if (this.closed || !this.scheduler.started || !triggers) return;
    const live = new Set<string>();
    for (const name of [...triggers.children].sort()) {
      const key = `${job}/${name}`;
      live.add(key);
      const snap = triggers.data(name);
      if (!snap) continue;
      const handled = this.handledTriggers.get(key) ?? new Set<number>();
      this.handledTriggers.set(key, handled);
      const request = readTrigger(snap.data, `${this.opts.paths.triggers(job)}/${name}`);
      if (!request.ok) {
        // A trigger that cannot be read triggers nothing (never "every item").
        this.reportMalformed('trigger', request.error, snap.stat.mzxid);
        continue;
      }
      const sequence = sequenceOf(name);
      if (!Number.isSafeInteger(sequence)) continue;
      for (const item of this.scheduler.trigger(job, new Date(snap.stat.ctime), sequence, request.value.items, handled)) handled.add(item);
    }
    for (const key of this.handledTriggers.keys()) if (key.startsWith(`${job}/`) && !live.has(key)) this.handledTriggers.delete(key);
    const prefix = `${this.opts.paths.triggers(job)}/`;
    for (const path of this.reported.keys()) if (path.startsWith(prefix) && !live.has(`${job}/${path.slice(prefix.length)}`)) this.reported.delete(path);
  }

  /**
   * Starts leading (one pass of `leading`). A start that fails (a connection loss among its first
   * reads) is thrown to the loop, which tries again while this member still leads: a leader that
   * stopped coordinating would leave every item of a departed member unowned, silently.
   */
  private async lead(): Promise<void> {
    if (this.closed || this.coordinator || !this.latchRef?.isLeader) return;
    const coordinator = new LeaderCoordinator(this.opts.zk, this.opts.paths, this.member.name, this.log.child({ component: 'leader' }), this.retry, {
      definition: (job) => (this.closed ? undefined : this.jobCaches.get(job)?.definition.current),
      onChanged: (listener) => {
        this.definitionEvents.on('changed', listener);
        return () => this.definitionEvents.off('changed', listener);
      },
    }, this.time);
    this.coordinator = coordinator;
    coordinator.on('deposed', () => this.unlead());
    coordinator.on('published', () => this.opts.metrics?.rebalances.inc());
    coordinator.on('oversized', (groups) => this.opts.metrics?.oversizedAssignmentNodes.set(groups));
    try {
      await coordinator.start();
    } catch (err) {
      if (this.coordinator === coordinator) this.unlead();
      throw err;
    }
  }

  private unlead(): void {
    this.coordinator?.close();
    this.coordinator = undefined;
    // What a leader counts is the leader's to report: a former one reports nothing.
    this.opts.metrics?.oversizedAssignmentNodes.set(0);
  }

  /** The instant after a time of `job`'s schedule as this worker runs it (undefined: not one of its jobs). */
  private scheduleOf(job: string): ((after: Date) => Date) | undefined {
    const def = this.definitions.get(job);
    if (!def) return undefined;
    const schedule = sharedSchedule(def.cron, def.timeZone);
    return (after) => schedule.next(after);
  }
}

/** What the scheduler is set from for a job: its assignment's generation, our items, the disabled ones. */
function signatureOf(record: AssignmentRecord | undefined, items: readonly number[]): string {
  return record ? `${record.generation}:${items.join(',')}:${(record.disabled ?? []).join(',')}` : '-';
}
