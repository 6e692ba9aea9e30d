import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { NodeCache } from '../zk/node-cache.js';
import { readControl, type JobControl } from '../model/job-control.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import { commitBatched } from '../zk/batched-multi.js';
import { decodeMemberInfo, type Member } from '../membership/member-info.js';
import { decodeJob } from '../model/job-record.js';
import { decodeAssignment, encodeAssignment, type AssignmentRecord } from '../model/assignment-record.js';
import { planAssignment } from './plan-assignment.js';
import { LedgerSweeper } from './ledger-sweeper.js';
import type { JobDefinition } from '../config/job-definition.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { systemClock } from '../clock/clock.js';

/**
 * How many jobs' assignments and controls a new leader reads at once: enough requests in flight
 * that the reads are not paced by round trips (at 64, a new leader of 10,000 jobs idled 40 % of
 * its 3 s load).
 */
const LOAD_CONCURRENCY = 512;
/**
 * Jobs decoded or planned per turn of the event loop in a reconcile pass: in one go, 10,000 jobs
 * blocked the leader's event loop for 1.5 s (2–4 s on a loaded machine), past its lease margin.
 */
const JOBS_PER_TURN = 500;
/** Up to this many jobs, 'assignments published' lists each job's owners; past it, a count. */
const LOGGED_JOBS = 50;

export interface LeaderCoordinatorEvents {
  /** Assignments were written; `jobs` are the jobs whose assignment changed. */
  published: [jobs: string[]];
  /** A write was refused because our membership node is gone: we are not leader any more. */
  deposed: [];
}

/**
 * An assignment to write: its record, encoded, the version it replaces (-1: create it), and the
 * members it takes items from (each is fenced in the multi that writes it).
 */
interface Change {
  job: string;
  record: AssignmentRecord;
  data: Buffer;
  version: number;
  losers: readonly string[];
}

/**
 * What this process already follows of the jobs' assignments (the worker's caches of the jobs it
 * runs): a new leader starts from it instead of reading every assignment again. A hint may be
 * stale; the write it leads to is version-checked, and a job whose write was refused is read again.
 */
export interface AssignmentHints {
  /** The assignment node as last read here, when it exists and no read of it is pending. */
  assignment(job: string): { data: Buffer; version: number } | undefined;
}

interface KnownAssignment {
  record: AssignmentRecord | undefined;
  /** znode data version, or -1 when the node does not exist yet. */
  version: number;
}

/**
 * What the leader does while it leads: watch the members and the job definitions, compute each
 * job's assignment with its sharding strategy, and write the assignments that changed, in one
 * transaction per `maxRequestBytes` (a few thousand jobs) that also checks the leader's own
 * membership node (a deposed leader cannot write).
 */
export class LeaderCoordinator extends EventEmitter<LeaderCoordinatorEvents> {
  private members: ChildrenCache | undefined;
  private jobs: ChildrenCache | undefined;
  private drains: ChildrenCache | undefined;
  private rebalance: NodeCache | undefined;
  private readonly controls = new Map<string, NodeCache>();
  /** The last control of each job that decoded: a malformed one changes nothing (disabled items stay disabled). */
  private readonly lastControls = new Map<string, JobControl>();
  private readonly reportedControls = new Map<string, string>();
  private readonly known = new Map<string, KnownAssignment>();
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private readonly loop: RefreshLoop;
  private passes = 0;
  /** The members as last planned with: names and data (a fence changes a node's version, not its data). */
  private membersSeen = '';
  /** The version each member node was last fenced to here (the members cache may not have seen it yet). */
  private readonly fencedAt = new Map<string, number>();
  private readonly ledgers: LedgerSweeper;
  /** The member names the ledgers were last swept against. */
  private membersSwept = '';
  /** Jobs whose assignment write was refused: read from ZooKeeper from then on, never from a hint. */
  private readonly hintRefused = new Set<string>();
  /** Each job's definition as last decoded, with the zxid of the write it was decoded from. */
  private readonly decodedJobs = new Map<string, { mzxid: bigint; def: JobDefinition | undefined }>();

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly memberName: string,
    private readonly log: Logger,
    private readonly retry?: RetryTiming,
    private readonly hints?: AssignmentHints,
  ) {
    super();
    this.ledgers = new LedgerSweeper(zk, paths, log.child({ component: 'ledger-sweeper' }), retry);
    this.loop = new RefreshLoop(() => this.reconcile(), {
      ...retry,
      deferred: true,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => this.log.warn({ err, delayMs }, 'reconcile failed; retrying'),
    });
  }

  /** Number of reconcile passes so far (for tests and metrics). */
  get reconcilePasses(): number {
    return this.passes;
  }

  async start(): Promise<void> {
    if (this.state !== 'latent') throw new IllegalStateError(`leader: start() in state ${this.state}`);
    this.state = 'started';
    await Promise.all([this.zk.mkdirp(this.paths.jobs), this.zk.mkdirp(this.paths.drains)]);
    this.members = new ChildrenCache(this.zk, this.paths.workers, { withData: true, log: this.log, retry: this.retry });
    this.jobs = new ChildrenCache(this.zk, this.paths.jobs, { withData: true, log: this.log, retry: this.retry });
    this.drains = new ChildrenCache(this.zk, this.paths.drains, { withData: false, log: this.log, retry: this.retry });
    this.rebalance = new NodeCache(this.zk, this.paths.rebalance, this.log, this.retry);
    // A member node whose version alone moved was fenced (by us, or by an operator): nothing to plan.
    this.members.on('changed', () => {
      if (this.membersSignature() !== this.membersSeen) this.schedule();
      this.sweepLedgers();
    });
    this.jobs.on('changed', () => this.schedule());
    this.drains.on('changed', () => this.schedule());
    this.rebalance.on('changed', () => this.schedule());
    await Promise.all([this.members.start(), this.jobs.start(), this.drains.start(), this.rebalance.start()]);
    this.log.info('leader coordinator started');
    this.schedule();
    this.sweepLedgers();
  }

  /** Removes the ledgers of members gone, when the set of members changed since the last sweep. */
  private sweepLedgers(): void {
    const names = [...this.members!.children].sort().join(',');
    if (names === this.membersSwept) return;
    this.membersSwept = names;
    void this.ledgers.schedule();
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    this.loop.close();
    this.ledgers.close();
    for (const cache of this.controls.values()) cache.close();
    this.rebalance?.close();
    this.drains?.close();
    this.jobs?.close();
    this.members?.close();
    this.removeAllListeners();
    if (wasStarted) this.log.info('leader coordinator stopped');
  }

  /** Asks for a reconcile pass soon (coalesces bursts of changes into one pass). */
  schedule(): void {
    if (this.state !== 'started') return;
    void this.loop.request();
  }

  private membersSignature(): string {
    return [...this.members!.children]
      .sort()
      .map((name) => `${name}=${this.members!.data(name)?.data.toString('base64') ?? ''}`)
      .join('\n');
  }

  private liveMembers(): Member[] {
    this.membersSeen = this.membersSignature();
    for (const name of this.fencedAt.keys()) if (!this.members!.data(name)) this.fencedAt.delete(name);
    const result: Member[] = [];
    for (const name of this.members!.children) {
      const info = decodeMemberInfo(this.members!.data(name)?.data ?? Buffer.alloc(0));
      if (info) result.push({ name, sequence: sequenceOf(name), info });
    }
    return result.sort((a, b) => a.sequence - b.sequence);
  }

  /**
   * The jobs' definitions that decode. A definition is decoded again only when its node was written
   * since (a worker's loss re-plans every job, and decoding 10,000 of them took a third of the pass).
   */
  private async definitions(): Promise<JobDefinition[]> {
    const defs: JobDefinition[] = [];
    const names = this.jobs!.children;
    let decoded = 0;
    let kept = 0;
    for (const name of names) {
      const node = this.jobs!.data(name);
      if (!node) continue;
      let entry = this.decodedJobs.get(name);
      if (entry?.mzxid !== node.stat.mzxid) {
        if (++decoded % JOBS_PER_TURN === 0) await this.nextTurn();
        entry = { mzxid: node.stat.mzxid, def: decodeJob(node.data) };
        this.decodedJobs.set(name, entry);
      }
      kept++;
      if (entry.def) defs.push(entry.def);
    }
    // Jobs deleted since: forget their definitions.
    if (this.decodedJobs.size > kept) {
      const present = new Set(names);
      for (const name of this.decodedJobs.keys()) if (!present.has(name) || !this.jobs!.data(name)) this.decodedJobs.delete(name);
    }
    return defs;
  }

  /** Lets the event loop turn (a pass over 10,000 jobs is about 1.5 s of work: see JOBS_PER_TURN). */
  private nextTurn(): Promise<void> {
    const timers = this.retry?.timers ?? systemClock;
    return new Promise((resolve) => timers.setImmediate(resolve));
  }

  /** The job's operator requests, watching them from the first time they are asked for. */
  private async controlOf(job: string): Promise<JobControl> {
    let cache = this.controls.get(job);
    if (!cache) {
      cache = new NodeCache(this.zk, this.paths.control(job), this.log, this.retry, { mostlyAbsent: true });
      this.controls.set(job, cache);
      cache.on('changed', () => this.schedule());
      await cache.start();
    }
    const read = readControl(cache.current?.data, this.paths.control(job));
    if (read.ok) {
      this.lastControls.set(job, read.value);
      return read.value;
    }
    const version = String(cache.current?.stat.mzxid);
    if (this.reportedControls.get(job) !== version) {
      this.reportedControls.set(job, version);
      this.log.error({ err: read.error, path: read.error.path, job }, 'malformed job control in ZooKeeper; keeping the last one read');
    }
    return this.lastControls.get(job) ?? { disabled: false, disabledItems: [], pins: {} };
  }

  private async assignmentOf(job: string): Promise<KnownAssignment> {
    const cached = this.known.get(job);
    if (cached) return cached;
    const hint = this.hintRefused.has(job) ? undefined : this.hints?.assignment(job);
    const record = hint && decodeAssignment(hint.data);
    if (hint && record) {
      const known = { record, version: hint.version };
      this.known.set(job, known);
      return known;
    }
    const found = await this.zk.getDataIfExists(this.paths.assignment(job));
    const known = found ? { record: decodeAssignment(found.data), version: found.stat.version } : { record: undefined, version: -1 };
    this.known.set(job, known);
    return known;
  }

  private async reconcile(): Promise<void> {
    this.passes++;
    const members = this.liveMembers();
    const defs = await this.definitions();
    if (this.state !== 'started') return;
    const workerIds = Object.fromEntries(members.map((m) => [m.name, m.info.id]));
    const drained = new Set(this.drains!.children);
    const changed: Change[] = [];
    const known = new Set(defs.map((d) => d.name));
    for (const job of [...this.controls.keys()]) {
      if (!known.has(job)) {
        this.controls.get(job)!.close();
        this.controls.delete(job);
        this.lastControls.delete(job);
        this.reportedControls.delete(job);
        this.known.delete(job);
        this.hintRefused.delete(job);
      }
    }
    // First pass over thousands of jobs: read their assignments and controls LOAD_CONCURRENCY at a time.
    for (let i = 0; i < defs.length; i += LOAD_CONCURRENCY) {
      if (this.state !== 'started') return; // closed meanwhile: no caches made after close()
      await Promise.all(defs.slice(i, i + LOAD_CONCURRENCY).map((d) => Promise.all([this.assignmentOf(d.name), this.controlOf(d.name)])));
    }

    for (const [k, def] of defs.entries()) {
      if (k > 0 && k % JOBS_PER_TURN === 0) {
        await this.nextTurn();
        if (this.state !== 'started') return; // closed meanwhile: no longer the leader
      }
      const current = await this.assignmentOf(def.name);
      const control = await this.controlOf(def.name);
      const { owners, disabled, pins: honouredPins } = planAssignment({ def, members, drained, control, previous: current.record?.owners });
      if (
        current.record &&
        sameOwners(current.record.owners, owners) &&
        sameList(current.record.disabled ?? [], disabled) &&
        JSON.stringify(current.record.pins ?? {}) === JSON.stringify(honouredPins)
      ) {
        continue;
      }
      const record: AssignmentRecord = {
        job: def.name,
        shards: def.shards,
        generation: (current.record?.generation ?? 0) + 1,
        leader: this.memberName,
        owners,
        disabled,
        pins: honouredPins,
        workers: Object.fromEntries(owners.filter((o): o is string => o !== null).map((o) => [o, workerIds[o] ?? '?'])),
        updatedAt: new Date().toISOString(),
      };
      changed.push({ job: def.name, record, data: encodeAssignment(record), version: current.version, losers: losersOf(current.record?.owners, owners) });
    }
    // Closed while this pass let the event loop turn: no longer the leader, nothing to publish.
    if (changed.length === 0 || this.state !== 'started') return;

    const published: string[] = [];
    try {
      await this.publish(changed, published);
    } finally {
      if (published.length > 0) this.emit('published', published);
    }
  }

  /**
   * Writes the assignments in order, as many per multi as fit in `maxRequestBytes` (a few thousand
   * jobs), each multi checking our own member node; stops at the first multi that fails (a later
   * pass redoes what was not written). `published` collects the jobs written.
   */
  private async publish(changed: readonly Change[], published: string[]): Promise<void> {
    let deposed = false;
    let fenced: string[] = [];
    const { unsent } = await commitBatched(this.zk, changed, {
      prefix: (tx) => tx.check(this.paths.member(this.memberName)),
      add: (tx, c) => {
        if (c.version < 0) tx.create(this.paths.assignment(c.job), c.data);
        else tx.setData(this.paths.assignment(c.job), c.data, c.version);
      },
      // Every live member that this multi takes items from is fenced in it: its node is written
      // (its own data again, version-checked), and each of its begins checks that version, so it
      // can begin none of those items once they are another's (docs/ARCHITECTURE.md, "Fences").
      suffix: (tx, batch) => {
        fenced = [];
        for (const loser of new Set(batch.flatMap((c) => c.losers))) {
          const node = this.members!.data(loser);
          if (!node) continue; // gone: its session can write nothing any more
          tx.setData(this.paths.member(loser), node.data, Math.max(node.stat.version, this.fencedAt.get(loser) ?? -1));
          fenced.push(loser);
        }
      },
      committed: (done, suffixResults) => {
        suffixResults.forEach((r, k) => this.fencedAt.set(fenced[k]!, r.stat?.version ?? 0));
        if (fenced.length > 0) this.log.debug({ members: fenced }, 'fenced members that items moved away from');
        for (const { request, results } of done) this.known.set(request.job, { record: request.record, version: results[0]?.stat?.version ?? 0 });
        const chunk = done.map((d) => d.request);
        this.log.info(
          chunk.length <= LOGGED_JOBS
            ? { jobs: chunk.map((c) => ({ job: c.job, generation: c.record.generation, owners: summarize(c.record) })) }
            : { jobs: chunk.length, first: chunk[0]!.job, last: chunk[chunk.length - 1]!.job },
          'assignments published',
        );
        for (const c of chunk) published.push(c.job);
      },
      // Someone else changed that assignment (or its job vanished): forget what we knew and redo.
      rejected: (c) => {
        this.known.delete(c.job);
        this.hintRefused.add(c.job);
        return 'stop';
      },
      // A member we fence changed its node meanwhile (its own update) or left: plan again once the
      // members cache has it.
      suffixRejected: (err, _pending, k) => {
        this.log.info({ member: fenced[k], code: err.code }, 'could not fence a member items move away from; planning again');
        this.fencedAt.delete(fenced[k]!);
      },
      prefixRejected: (err) => {
        deposed = true;
        if (this.state === 'closed') return;
        this.log.warn({ err }, 'own membership node is gone: deposed');
        this.emit('deposed');
        this.close(); // a deposed leader never tries again (its session is over)
      },
    });
    if (unsent.length > 0 && !deposed) this.schedule();
  }
}

/** The members that own an item in `before` and not in `after` (an item removed by a reshard included). */
function losersOf(before: readonly (string | null)[] | undefined, after: readonly (string | null)[]): string[] {
  const losers = new Set<string>();
  before?.forEach((owner, item) => {
    if (owner !== null && after[item] !== owner) losers.add(owner);
  });
  return [...losers];
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameOwners(a: readonly (string | null)[], b: readonly (string | null)[]): boolean {
  return a.length === b.length && a.every((o, i) => o === b[i]);
}

function summarize(record: AssignmentRecord): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  record.owners.forEach((owner, item) => {
    const key = owner ? (record.workers[owner] ?? owner) : '(none)';
    (out[key] ??= []).push(item);
  });
  return out;
}
