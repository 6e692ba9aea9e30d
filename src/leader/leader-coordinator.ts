import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { NodeCache, type NodeSnapshot } from '../zk/node-cache.js';
import { readControl, type JobControl } from '../model/job-control.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import { commitBatched } from '../zk/batched-multi.js';
import { decodeMemberInfo, type Member } from '../membership/member-info.js';
import { readJob } from '../model/job-record.js';
import { valueOr } from '../model/decoded.js';
import type { AssignmentRecord } from '../model/assignment-record.js';
import { ASSIGNMENT_GROUPS, MAX_GROUP_BYTES, assignmentGroupOf, encodeAssignmentGroup, readAssignmentGroup } from '../model/assignment-group.js';
import { planAssignment } from './plan-assignment.js';
import { LedgerSweeper } from './ledger-sweeper.js';
import { migrateControls } from './control-migration.js';
import type { JobDefinition } from '../config/job-definition.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { systemClock, type Clock } from '../clock/clock.js';

/**
 * Jobs decoded or planned per turn of the event loop in a reconcile pass. In one go, 10,000 jobs
 * once blocked the leader's event loop for 1.5 s, past its lease margin; a pass is cheaper now
 * (about 30 ms per 2,000 jobs idle), and on a worker busy firing every turn given back costs the
 * pass the firing work queued meanwhile: at 500 per turn a busy leader of 10,000 jobs planned for
 * 1.8 s, at 2,000 for 1.0 s.
 */
const JOBS_PER_TURN = 2000;
/** Up to this many jobs, 'assignments published' lists each job's owners; past it, a count. */
const LOGGED_JOBS = 50;

export interface LeaderCoordinatorEvents {
  /** Assignments were written; `jobs` are the jobs whose assignment changed (or was removed). */
  published: [jobs: string[]];
  /** A write was refused because our membership node is gone: we are not leader any more. */
  deposed: [];
  /** How many assignment nodes are left unwritten because they would outgrow MAX_GROUP_BYTES (told when it changes). */
  oversized: [groups: number];
}

/**
 * An assignment node to write: its jobs after the change, encoded, the version it replaces (-1:
 * create it), the jobs whose entry changed or went, and the members it takes items from (each is
 * fenced in the multi that writes it).
 */
interface Change {
  group: number;
  jobs: Map<string, AssignmentRecord>;
  data: Buffer;
  version: number;
  written: AssignmentRecord[];
  removed: string[];
  losers: Set<string>;
}

/**
 * Job definitions this process already follows (its worker's caches of the jobs it declares): a
 * leader takes them from here instead of reading and watching each again (at 10,000 jobs, 0.7 s of
 * a new leader's start), and reads only the others.
 */
export interface FollowedDefinitions {
  /** `job`'s definition node as followed here (null: it does not exist); undefined: not followed here. */
  definition(job: string): NodeSnapshot | null | undefined;
  /** Calls `listener` whenever a followed definition changes; returns what stops that. */
  onChanged(listener: (job: string) => void): () => void;
}

interface KnownGroup {
  /** The node's jobs as stored (empty when it does not exist or does not decode). */
  jobs: ReadonlyMap<string, AssignmentRecord>;
  /** znode data version, or -1 when the node does not exist yet. */
  version: number;
  /** The node does not decode: who owned its items is unknown, so its rewrite fences every member. */
  malformed?: boolean;
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
  /** The assignment nodes as written (by us, or by someone else: then read again and rewritten). */
  private assignmentNodes: ChildrenCache | undefined;
  /** Groups whose node the cache has shown at the version we know (so its absence now is a removal). */
  private readonly groupsSeen = new Set<number>();
  /** The jobs' operator requests (`/controls/<job>`: a node only for a job that has requests). */
  private controls: ChildrenCache | undefined;
  /** The last control of each job that decoded: a malformed one changes nothing (disabled items stay disabled). */
  private readonly lastControls = new Map<string, JobControl>();
  private readonly reportedControls = new Map<string, string>();
  private readonly known = new Map<number, KnownGroup>();
  private state: 'latent' | 'started' | 'closed' = 'latent';
  /** Every cache has read once: a pass before that would plan from part of the fleet. */
  private loaded = false;
  private readonly loop: RefreshLoop;
  private passes = 0;
  /** The members as last planned with: names and data (a fence changes a node's version, not its data). */
  private membersSeen = '';
  /** The version each member node was last fenced to here (the members cache may not have seen it yet). */
  private readonly fencedAt = new Map<string, number>();
  /** Groups left unwritten because their node would outgrow MAX_GROUP_BYTES. */
  private readonly oversized = new Set<number>();
  private readonly ledgers: LedgerSweeper;
  /** The member names the ledgers were last swept against. */
  private membersSwept = '';
  /** Groups whose write was refused, or that someone else wrote: read from ZooKeeper, not from the cache. */
  private readonly readDirect = new Set<number>();
  /** What was last reported of a malformed assignment node (its mzxid), so each is reported once. */
  private readonly reportedGroups = new Map<number, bigint>();
  /** Definitions of jobs not followed here (see FollowedDefinitions), watched by this leader. */
  private readonly ownDefinitions = new Map<string, NodeCache>();
  private stopFollowing: (() => void) | undefined;
  /** Each job's definition as last decoded, with the zxid of the write it was decoded from. */
  private readonly decodedJobs = new Map<string, { mzxid: bigint; def: JobDefinition | undefined }>();

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly memberName: string,
    private readonly log: Logger,
    private readonly retry?: RetryTiming,
    private readonly followed?: FollowedDefinitions,
    /** Whose time an assignment write is stamped with (`updatedAt`): the simulation's, in the simulation. @default systemClock */
    private readonly clock: Pick<Clock, 'now'> = systemClock,
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
    const startedAt = performance.now();
    await Promise.all([this.zk.mkdirp(this.paths.jobs), this.zk.mkdirp(this.paths.drains), this.zk.mkdirp(this.paths.assignments)]);
    await migrateControls(this.zk, this.paths, this.log);
    this.members = new ChildrenCache(this.zk, this.paths.workers, { withData: true, log: this.log, retry: this.retry });
    // With followed definitions, only the job names: their data comes from what is followed.
    this.jobs = new ChildrenCache(this.zk, this.paths.jobs, { withData: !this.followed, log: this.log, retry: this.retry });
    this.stopFollowing = this.followed?.onChanged(() => this.schedule());
    this.drains = new ChildrenCache(this.zk, this.paths.drains, { withData: false, log: this.log, retry: this.retry });
    this.rebalance = new NodeCache(this.zk, this.paths.rebalance, this.log, this.retry);
    this.assignmentNodes = new ChildrenCache(this.zk, this.paths.assignments, { withData: true, log: this.log, retry: this.retry });
    this.controls = new ChildrenCache(this.zk, this.paths.controls, { withData: true, log: this.log, retry: this.retry });
    // A member node whose version alone moved was fenced (by us, or by an operator): nothing to plan.
    this.members.on('changed', () => {
      if (this.membersSignature() !== this.membersSeen) this.schedule();
      this.sweepLedgers();
    });
    this.jobs.on('changed', () => this.schedule());
    this.drains.on('changed', () => this.schedule());
    this.rebalance.on('changed', () => this.schedule());
    this.assignmentNodes.on('changed', () => this.assignmentNodesChanged());
    this.controls.on('changed', () => this.schedule());
    await Promise.all([this.members.start(), this.jobs.start(), this.drains.start(), this.rebalance.start(), this.assignmentNodes.start(), this.controls.start()]);
    this.log.info({ jobs: this.jobs.children.length, members: this.members.children.length, readMs: Math.round(performance.now() - startedAt) }, 'leader coordinator started');
    this.loaded = true;
    this.schedule();
    this.sweepLedgers();
  }

  /**
   * An assignment node at a version we did not write (someone else wrote or removed it: an operator
   * by hand, garbage) is read again and rewritten by the next pass; our own writes, as the cache
   * sees them later, are at or below the version we know.
   */
  private assignmentNodesChanged(): void {
    const nodes = this.assignmentNodes!;
    let foreign = false;
    for (const [group, known] of this.known) {
      const node = nodes.data(String(group));
      if (node && node.stat.version >= known.version) this.groupsSeen.add(group);
      // (A node we wrote may not be in the cache yet: only one it showed and lost was removed.)
      const moved = node ? node.stat.version > known.version : this.groupsSeen.has(group);
      if (!moved) continue;
      this.groupsSeen.delete(group);
      this.log.warn({ path: this.paths.assignmentGroup(group), known: known.version, found: node?.stat.version ?? null }, 'assignment node written by someone else; reading it again');
      this.known.delete(group);
      this.readDirect.add(group);
      foreign = true;
    }
    if (foreign) this.schedule();
  }

  /** Removes the ledgers of members gone, when the set of members changed since the last sweep. */
  private sweepLedgers(): void {
    const names = [...this.members!.children].sort().join(',');
    if (names === this.membersSwept) return;
    this.membersSwept = names;
    void this.ledgers.schedule();
  }

  private markOversized(group: number, oversized: boolean): void {
    const before = this.oversized.size;
    if (oversized) this.oversized.add(group);
    else this.oversized.delete(group);
    if (this.oversized.size !== before) this.emit('oversized', this.oversized.size);
  }

  close(): void {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    this.loop.close();
    this.ledgers.close();
    this.stopFollowing?.();
    for (const cache of this.ownDefinitions.values()) cache.close();
    this.ownDefinitions.clear();
    this.controls?.close();
    this.assignmentNodes?.close();
    this.rebalance?.close();
    this.drains?.close();
    this.jobs?.close();
    this.members?.close();
    this.removeAllListeners();
    if (wasStarted) this.log.info('leader coordinator stopped');
  }

  /** Asks for a reconcile pass soon (coalesces bursts of changes into one pass). */
  schedule(): void {
    if (this.state !== 'started' || !this.loaded) return;
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
    await this.watchUnfollowed(names);
    let decoded = 0;
    let kept = 0;
    for (const name of names) {
      const node = this.definitionNode(name);
      if (!node) continue;
      let entry = this.decodedJobs.get(name);
      if (entry?.mzxid !== node.stat.mzxid) {
        if (++decoded % JOBS_PER_TURN === 0) await this.nextTurn();
        // (Read as the worker reads it, node path and name: a definition this process's worker
        // checked already is not checked again, readJob keeps its result.)
        entry = { mzxid: node.stat.mzxid, def: valueOr(readJob(node.data, this.paths.job(name), name), undefined) };
        this.decodedJobs.set(name, entry);
      }
      kept++;
      if (entry.def) defs.push(entry.def);
    }
    // Jobs deleted since: forget their definitions.
    if (this.decodedJobs.size > kept) {
      const present = new Set(names);
      for (const name of this.decodedJobs.keys()) if (!present.has(name) || !this.definitionNode(name)) this.decodedJobs.delete(name);
    }
    return defs;
  }

  /** A job's definition node: from the jobs cache, or as followed here, or as this leader watches it. */
  private definitionNode(name: string): NodeSnapshot | undefined {
    if (!this.followed) return this.jobs!.data(name);
    const followed = this.followed.definition(name);
    if (followed !== undefined) return followed ?? undefined;
    return this.ownDefinitions.get(name)?.current ?? undefined;
  }

  /** Watches the definitions of the jobs not followed here (and stops for jobs gone). */
  private async watchUnfollowed(names: readonly string[]): Promise<void> {
    if (!this.followed) return;
    const present = new Set(names);
    for (const [name, cache] of this.ownDefinitions) {
      if (present.has(name) && this.followed.definition(name) === undefined) continue;
      cache.close();
      this.ownDefinitions.delete(name);
    }
    const started: Promise<void>[] = [];
    for (const name of names) {
      if (this.ownDefinitions.has(name) || this.followed.definition(name) !== undefined) continue;
      const cache = new NodeCache(this.zk, this.paths.job(name), this.log, this.retry);
      this.ownDefinitions.set(name, cache);
      cache.on('changed', () => this.schedule());
      started.push(cache.start());
    }
    await Promise.all(started);
  }

  /** Lets the event loop turn (a pass over 10,000 jobs is about 1.5 s of work: see JOBS_PER_TURN). */
  private nextTurn(): Promise<void> {
    const timers = this.retry?.timers ?? systemClock;
    return new Promise((resolve) => timers.setImmediate(resolve));
  }

  /** The job's operator requests (none when it has no control node). */
  private controlOf(job: string): JobControl {
    const node = this.controls!.data(job);
    const read = readControl(node?.data, this.paths.control(job));
    if (read.ok) {
      this.lastControls.set(job, read.value);
      return read.value;
    }
    const version = String(node?.stat.mzxid);
    if (this.reportedControls.get(job) !== version) {
      this.reportedControls.set(job, version);
      this.log.error({ err: read.error, path: read.error.path, job }, 'malformed job control in ZooKeeper; keeping the last one read');
    }
    return this.lastControls.get(job) ?? { disabled: false, disabledItems: [], pins: {} };
  }

  /**
   * Assignment node `group` as known here: as the cache of the nodes read it (after our election:
   * every write of an earlier leader included), else read; then kept current by our own writes.
   * A node the cache does not list may have been made since it listed them: it is read.
   */
  private async groupOf(group: number): Promise<KnownGroup> {
    const cached = this.known.get(group);
    if (cached) return cached;
    const path = this.paths.assignmentGroup(group);
    const found = (this.readDirect.has(group) ? undefined : this.assignmentNodes!.data(String(group))) ?? (await this.zk.getDataIfExists(path));
    let known: KnownGroup = { jobs: new Map(), version: -1 };
    if (found) {
      const read = readAssignmentGroup(found.data, path, group);
      // A node that does not decode is written again from scratch (its jobs planned anew).
      if (!read.ok && this.reportedGroups.get(group) !== found.stat.mzxid) {
        this.reportedGroups.set(group, found.stat.mzxid);
        this.log.error({ err: read.error, path }, 'malformed assignment node in ZooKeeper; planning its jobs anew');
      }
      known = { jobs: (read.ok ? read.value?.jobs : undefined) ?? new Map(), version: found.stat.version, malformed: !read.ok };
    }
    this.known.set(group, known);
    return known;
  }

  /**
   * The generation a job's entry starts from when its node holds none: 0, or for a node that does
   * not decode its version + 1 — every entry of the node was written in a write of the node, so each
   * generation it held is at most its version + 1, and a worker sees the rewrite as a skipped
   * generation (items kept are taken over again) rather than as an older assignment.
   */
  private generationFloor(group: number): number {
    const known = this.known.get(group)!;
    return known.malformed ? known.version + 1 : 0;
  }

  private async reconcile(): Promise<void> {
    // A cache whose first read failed (a connection loss at the start) is empty, not read: a pass
    // on it would drop every job and move items away from members it does not see, fencing none
    // (found by the fleet simulation, seed 22301). Thrown: the loop tries again with backoff.
    const unread = [this.members, this.jobs, this.drains, this.controls, this.assignmentNodes].filter((c) => !c?.hasRead);
    if (unread.length > 0) throw new IllegalStateError(`leader: ${unread.length} of its caches not read yet (${unread.map((c) => c?.path).join(', ')}); planning waits for them`);
    this.passes++;
    const passStart = performance.now();
    let loaded = passStart;
    const members = this.liveMembers();
    const defs = await this.definitions();
    if (this.state !== 'started') return;
    const workerIds = Object.fromEntries(members.map((m) => [m.name, m.info.id]));
    const drained = new Set(this.drains!.children);
    const known = new Set(defs.map((d) => d.name));
    for (const job of [...this.lastControls.keys()]) {
      if (!known.has(job)) {
        this.lastControls.delete(job);
        this.reportedControls.delete(job);
      }
    }
    // Every assignment node (a job removed since is dropped from its node).
    await Promise.all(Array.from({ length: ASSIGNMENT_GROUPS }, (_, g) => this.groupOf(g)));
    if (this.state !== 'started') return;
    loaded = performance.now();
    const changes = new Map<number, Omit<Change, 'data'>>();
    const changeOf = (group: number): Omit<Change, 'data'> => {
      let c = changes.get(group);
      if (!c) {
        const known = this.known.get(group)!;
        c = { group, jobs: new Map(known.jobs), version: known.version, written: [], removed: [], losers: new Set() };
        changes.set(group, c);
      }
      return c;
    };

    for (const [k, def] of defs.entries()) {
      if (k > 0 && k % JOBS_PER_TURN === 0) {
        await this.nextTurn();
        if (this.state !== 'started') return; // closed meanwhile: no longer the leader
      }
      const group = assignmentGroupOf(def.name);
      const current = this.known.get(group)!.jobs.get(def.name);
      const control = this.controlOf(def.name);
      const { owners, disabled, pins: honouredPins } = planAssignment({ def, members, drained, control, previous: current?.owners });
      if (
        current &&
        sameOwners(current.owners, owners) &&
        sameList(current.disabled ?? [], disabled) &&
        JSON.stringify(current.pins ?? {}) === JSON.stringify(honouredPins)
      ) {
        continue;
      }
      const record: AssignmentRecord = {
        job: def.name,
        shards: def.shards,
        generation: (current?.generation ?? this.generationFloor(group)) + 1,
        leader: this.memberName,
        owners,
        disabled,
        pins: honouredPins,
        workers: Object.fromEntries(owners.filter((o): o is string => o !== null).map((o) => [o, workerIds[o] ?? '?'])),
        updatedAt: '',
      };
      const change = changeOf(group);
      change.jobs.set(def.name, record);
      change.written.push(record);
      for (const loser of losersOf(current?.owners, owners)) change.losers.add(loser);
      if (this.known.get(group)!.malformed) for (const m of members) change.losers.add(m.name);
    }
    // Closed while this pass let the event loop turn: no longer the leader, nothing to publish.
    if (this.state !== 'started') return;
    // A job whose definition node is gone leaves its assignment node (its items' owners are fenced:
    // they must not begin it again if it comes back).
    const present = new Set(this.jobs!.children);
    for (const [group, known] of this.known) {
      for (const [job, record] of known.jobs) {
        if (present.has(job)) continue;
        const change = changeOf(group);
        change.jobs.delete(job);
        change.removed.push(job);
        for (const owner of record.owners) if (owner !== null) change.losers.add(owner);
      }
    }
    // A pass's cost, on a new leader's first pass (what its takeover of a fleet waits for) and
    // whenever it took long.
    const plannedMs = performance.now() - loaded;
    if (this.passes === 1 || plannedMs + loaded - passStart > 1000) {
      this.log.info({ pass: this.passes, jobs: defs.length, loadMs: Math.round(loaded - passStart), planMs: Math.round(plannedMs), nodes: changes.size }, 'assignments planned');
    }
    const now = new Date(this.clock.now()).toISOString();
    const changed: Change[] = [];
    for (const c of [...changes.values()].sort((a, b) => a.group - b.group)) {
      const data = encodeAssignmentGroup(c.group, this.memberName, now, c.jobs.values());
      if (data.length > MAX_GROUP_BYTES) {
        // Left as it is (its jobs keep their owners): a node cannot hold more (docs/ARCHITECTURE.md, "Assignments").
        this.log.error({ path: this.paths.assignmentGroup(c.group), bytes: data.length, limit: MAX_GROUP_BYTES, jobs: c.jobs.size }, 'assignment node would be larger than an assignment node may be; not written (its jobs keep their owners)');
        this.markOversized(c.group, true);
        continue;
      }
      for (const r of c.written) r.updatedAt = now;
      changed.push({ ...c, data });
    }
    if (changed.length === 0) return;

    const published: string[] = [];
    try {
      await this.publish(changed, published);
    } finally {
      if (published.length > 0) this.emit('published', published);
    }
  }

  /**
   * Writes the assignment nodes in order, as many per multi as fit in `maxRequestBytes`, each multi
   * checking our own member node; stops at the first multi that fails (a later pass redoes what was
   * not written). `published` collects the jobs written or removed.
   */
  private async publish(changed: readonly Change[], published: string[]): Promise<void> {
    let deposed = false;
    let fenced: string[] = [];
    const { unsent } = await commitBatched(this.zk, changed, {
      prefix: (tx) => tx.check(this.paths.member(this.memberName)),
      add: (tx, c) => {
        if (c.version < 0) tx.create(this.paths.assignmentGroup(c.group), c.data);
        else tx.setData(this.paths.assignmentGroup(c.group), c.data, c.version);
      },
      // Every live member that this multi takes items from is fenced in it: its node is written
      // (its own data again, version-checked), and each of its begins checks that version, so it
      // can begin none of those items once they are another's (docs/ARCHITECTURE.md, "Fences").
      suffix: (tx, batch) => {
        fenced = [];
        for (const loser of new Set(batch.flatMap((c) => [...c.losers]))) {
          const node = this.members!.data(loser);
          if (!node) continue; // gone: its session can write nothing any more
          tx.setData(this.paths.member(loser), node.data, Math.max(node.stat.version, this.fencedAt.get(loser) ?? -1));
          fenced.push(loser);
        }
      },
      committed: (done, suffixResults) => {
        suffixResults.forEach((r, k) => this.fencedAt.set(fenced[k]!, r.stat?.version ?? 0));
        if (fenced.length > 0) this.log.debug({ members: fenced }, 'fenced members that items moved away from');
        for (const { request, results } of done) {
          this.known.set(request.group, { jobs: request.jobs, version: results[0]?.stat?.version ?? 0 });
          this.markOversized(request.group, false);
        }
        const written = done.flatMap((d) => d.request.written);
        const removed = done.flatMap((d) => d.request.removed);
        this.log.info(
          written.length <= LOGGED_JOBS
            ? { jobs: written.map((r) => ({ job: r.job, generation: r.generation, owners: summarize(r) })), removed, groups: done.length }
            : { jobs: written.length, first: written[0]!.job, last: written[written.length - 1]!.job, removed: removed.length, groups: done.length },
          'assignments published',
        );
        for (const r of written) published.push(r.job);
        published.push(...removed);
      },
      // Someone else wrote that node (another leader, or an operator by hand): forget what we knew and redo.
      rejected: (c) => {
        this.known.delete(c.group);
        this.groupsSeen.delete(c.group);
        this.readDirect.add(c.group);
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
