import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { mapLimit } from '../api/zk-read.js';
import { decodeMemberInfo, type Member } from '../membership/member-info.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';
import { buildJobSnapshot, type FleetSnapshot, type ItemNodes, type JobSnapshot } from '../api/fleet-snapshot.js';
import { zooKeeperRunRows } from '../api/zookeeper-runs.js';
import type { RunRow } from '../history/run-query.js';
import { readItemState, sameItemState, type ItemState } from './item-state.js';
import { JobItemWatch } from './job-item-watch.js';
import { LedgerStore } from './ledger-store.js';
import { OpenJobs } from './open-jobs.js';
import { ReusedRead } from './reused-read.js';
import { SweepLoop, type SweepTiming } from './sweep-loop.js';
import { assignmentGroupOf } from '../model/assignment-group.js';

export interface FleetCacheEvents {
  /** Something changed; `jobs` names the jobs whose nodes changed, `members` whether workers or drains did. */
  changed: [change: { jobs: ReadonlySet<string>; members: boolean }];
}

export interface FleetCacheOptions {
  /** The jobs whose item nodes are watched; every other job's items are swept. @default none */
  openJobs?: OpenJobs;
  /** Timing of the sweeps of the items of jobs no browser has open. */
  sweep?: SweepTiming & {
    /** Reads of one sweep in flight at once. @default 128 */
    concurrency?: number;
  };
}

/** The watches of one job. */
interface JobWatch {
  /** The names of its item nodes (not their data: that changes with every run). */
  itemNames: ChildrenCache;
  /** Its items' nodes as last swept (or read for a request). */
  swept: Map<number, ItemState>;
  /** While a browser has the job open: its items' nodes, watched. */
  items?: JobItemWatch;
  /** The snapshot as last built, until the job's nodes change. */
  built?: JobSnapshot;
}

/** Item histories (`items/<i>/history`) per job and item, as read. */
export type Histories = ReadonlyMap<string, ReadonlyMap<number, { data: Buffer }>>;

/** A read of every item's history is reused for at least this long. */
const HISTORY_REUSE_MS = 3000;
const DEFAULT_SWEEP_CONCURRENCY = 128;

/**
 * The fleet as the console keeps it, one copy per console process however many browsers read it.
 * Watched: members, drains, definitions, assignments, controls, the item names of every job, the
 * list of the members' ledgers, and, for the jobs a browser has open ({@link OpenJobs}), their
 * items' progress records and their part of every member's ledger (which runs are in flight). The
 * item records and ledger parts of every other job change with every run: they are read in
 * periodic sweeps ({@link SweepLoop}: every ledger part once, then progress records, with a bounded
 * concurrency), so that the console's cost does not grow with the fleet's run rate. Builds the
 * same {@link FleetSnapshot} as `readFleetSnapshot` (zkctl's reads), rebuilding only the jobs whose
 * nodes changed. Item histories are read when asked ({@link histories}). Bound to one session:
 * when it ends, close this and build a new one.
 */
export class FleetCache extends EventEmitter<FleetCacheEvents> {
  private readonly workers: ChildrenCache;
  private readonly drains: ChildrenCache;
  private readonly jobs: ChildrenCache;
  /** The assignment nodes, and each one's data as last seen (to tell which changed). */
  private readonly assignments: ChildrenCache;
  private readonly assignmentsSeen = new Map<string, Buffer>();
  /** The jobs' control nodes, and each one's data as last seen. */
  private readonly controls: ChildrenCache;
  private readonly controlsSeen = new Map<string, Buffer>();
  /** The members' ledgers (listed), and their parts as last read. */
  private readonly ledgerList: ChildrenCache;
  private readonly ledgers: LedgerStore;
  private readonly perJob = new Map<string, JobWatch>();
  private readonly openJobs: OpenJobs;
  private readonly sweeps: SweepLoop;
  private readonly concurrency: number;
  private members: Member[] = [];
  private membersBuilt = false;
  private closed = false;
  private readonly pending: Promise<void>[] = [];
  private readonly onOpenChanged = (job: string, open: boolean) => this.setOpen(job, open);

  constructor(private readonly zk: ZkClient, private readonly paths: ZkPaths, private readonly log: Logger, options: FleetCacheOptions = {}) {
    super();
    this.workers = new ChildrenCache(zk, paths.workers, { withData: true, log });
    this.drains = new ChildrenCache(zk, paths.drains, { withData: false, log });
    this.jobs = new ChildrenCache(zk, paths.jobs, { withData: true, log });
    this.assignments = new ChildrenCache(zk, paths.assignments, { withData: true, log });
    this.controls = new ChildrenCache(zk, paths.controls, { withData: true, log });
    this.ledgerList = new ChildrenCache(zk, paths.ledgers, { withData: false, log });
    this.ledgers = new LedgerStore(paths);
    this.openJobs = options.openJobs ?? new OpenJobs();
    this.concurrency = options.sweep?.concurrency ?? DEFAULT_SWEEP_CONCURRENCY;
    this.sweeps = new SweepLoop(() => this.sweep(), options.sweep ?? {}, log);
  }

  /** Reads everything once (every item swept once) and sets the watches; resolves when the whole fleet is known. */
  async start(): Promise<void> {
    this.workers.on('changed', () => this.membersChanged());
    this.drains.on('changed', () => this.membersChanged());
    this.jobs.on('changed', () => this.reconcileJobs());
    this.assignments.on('changed', () => this.assignmentsChanged());
    this.controls.on('changed', () => this.controlsChanged());
    this.ledgerList.on('changed', () => this.ledgersListed());
    this.openJobs.on('changed', this.onOpenChanged);
    await Promise.all([this.workers.start(), this.drains.start(), this.jobs.start(), this.assignments.start(), this.controls.start(), this.ledgerList.start()]);
    this.reconcileJobs();
    // Each job cache started meanwhile may add more: wait for all.
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
    await this.sweep();
    this.sweeps.start();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.openJobs.off('changed', this.onOpenChanged);
    this.sweeps.close();
    this.workers.close();
    this.drains.close();
    this.jobs.close();
    this.assignments.close();
    this.controls.close();
    this.ledgerList.close();
    for (const j of this.perJob.values()) this.closeJob(j);
    this.perJob.clear();
    this.removeAllListeners();
  }

  /**
   * The fleet now, in the shape of `readFleetSnapshot` (jobs sorted by name), all jobs or `only`
   * these; items' run history (`progress.recent`) from `histories` when given, else empty.
   */
  snapshot(only?: readonly string[], histories?: Histories): FleetSnapshot {
    const members = this.liveMembers();
    const jobs: JobSnapshot[] = [];
    for (const name of only ?? [...this.perJob.keys()].sort()) {
      const j = this.buildJob(name, histories?.get(name));
      if (j) jobs.push(j);
    }
    return { namespace: this.paths.root.slice(1), readAt: Date.now(), members, drains: [...this.drains.children].sort(), jobs };
  }

  /** One job, or undefined when it does not exist. */
  job(name: string): JobSnapshot | undefined {
    return this.perJob.has(name) ? this.buildJob(name) : undefined;
  }

  /** Whether the job exists. */
  has(name: string): boolean {
    return this.perJob.has(name) && this.jobs.data(name) !== undefined;
  }

  /** The jobs whose item nodes are watched now (open in a browser, and loaded). */
  get watchedJobs(): string[] {
    return [...this.perJob].filter(([, w]) => w.items !== undefined && !w.items.paused).map(([name]) => name).sort();
  }

  /** Whether the items of job `name` are watched and were all read (it is open and its watch is loaded). */
  itemsWatched(name: string): boolean {
    return this.perJob.get(name)?.items?.loaded === true;
  }

  /** How long the last sweep of the items took (ms). */
  get lastSweepMs(): number {
    return this.sweeps.lastDurationMs;
  }

  /**
   * The fleet with `only` these jobs' items read now, unless watched (then as watched): what a
   * request for a job shows, as fresh as zkctl's read. A change found goes out as the sweep's would.
   */
  async fresh(only: readonly string[], histories?: Histories): Promise<FleetSnapshot> {
    const changed = new Set<string>();
    await Promise.all(only.map(async (name) => {
      const w = this.perJob.get(name);
      if (!w || w.items?.loaded) return;
      const items = numericNames(w.itemNames.children);
      // The job's ledger parts first (which runs are in flight), then its items' records.
      const members = this.ledgerList.children;
      const part = this.ledgers.partOf(name);
      const partSeq = this.ledgers.nextReadSeq();
      const parts = await mapLimit(members, (member) => readLedgerPartNode(this.zk, this.paths.ledgerPart(member, part)), this.concurrency);
      const itemSeq = this.ledgers.nextReadSeq();
      const states = await mapLimit(items, (item) => readItemState(this.zk, this.paths, name, item, itemSeq), this.concurrency);
      if (this.perJob.get(name) !== w || w.items?.loaded) return;
      members.forEach((member, i) => {
        if (this.ledgers.put(member, part, parts[i]!, partSeq)) changed.add(name);
      });
      items.forEach((item, i) => this.takeSwept(name, w, item, states[i]!, changed));
    }));
    for (const name of changed) this.perJob.get(name)!.built = undefined;
    if (changed.size > 0 && !this.closed) this.emit('changed', { jobs: changed, members: false });
    return this.snapshot(only, histories);
  }

  /** Every run in every item's history, newest first: read at most one at a time and reused ({@link ReusedRead}). */
  private readonly allRuns = new ReusedRead(async () => zooKeeperRunRows(this.snapshot(undefined, await this.histories([...this.perJob.keys()]))), HISTORY_REUSE_MS);

  /**
   * Every run the item histories of every job hold (`zkctl runs` rows, newest first), from a shared
   * read: a large fleet's is 8,000 reads, so it is reused, and a caller may be answered with the
   * last one while a newer one is made.
   */
  runs(): Promise<readonly RunRow[]> {
    return this.allRuns.get();
  }

  /** The item histories of these jobs, read now. */
  histories(names: readonly string[]): Promise<Histories> {
    const pairs = names.flatMap((job) => numericNames(this.perJob.get(job)?.itemNames.children ?? []).map((item) => [job, item] as const));
    return mapLimit(pairs, async ([job, item]) => [job, item, await this.zk.getDataIfExists(this.paths.history(job, item))] as const, 32).then((rows) => {
      const out = new Map<string, Map<number, { data: Buffer }>>();
      for (const [job, item, found] of rows) if (found) (out.get(job) ?? out.set(job, new Map()).get(job)!).set(item, found);
      return out as Histories;
    });
  }

  private liveMembers(): Member[] {
    if (!this.membersBuilt) {
      const members: Member[] = [];
      for (const name of this.workers.children) {
        const d = this.workers.data(name);
        const info = d && decodeMemberInfo(d.data);
        if (info) members.push({ name, sequence: sequenceOf(name), info });
      }
      this.members = members.sort((a, b) => a.sequence - b.sequence);
      this.membersBuilt = true;
    }
    return this.members;
  }

  private buildJob(name: string, histories?: ReadonlyMap<number, { data: Buffer }>): JobSnapshot | undefined {
    const w = this.perJob.get(name);
    const definition = this.jobs.data(name);
    if (!w || !definition) return undefined;
    if (w.built && !histories) return w.built;
    const states = w.items?.loaded ? w.items.states : w.swept;
    const items = new Map<number, ItemNodes>();
    for (const item of numericNames(w.itemNames.children)) {
      const s = states.get(item);
      if (!s) continue; // not read yet (a new job, before the next sweep)
      items.set(item, { progress: s.progress, history: histories?.get(item) ?? null, readSeq: s.readSeq });
    }
    const ledgers = this.ledgers.jobLedgers(name, this.ledgerList.children, new Set(this.workers.children));
    const assignment = this.assignments.data(String(assignmentGroupOf(name))) ?? null;
    const built = buildJobSnapshot(this.paths, name, { definition, assignment, control: this.controls.data(name) ?? null, itemNames: w.itemNames.children, items, ledgers }, this.liveMembers());
    if (!histories) w.built = built;
    return built;
  }

  /** One sweep: every member's ledger parts, then the progress records of the items of every job not watched. */
  private async sweep(): Promise<void> {
    if (this.closed) return;
    const changed = await this.sweepLedgers();
    const targets: Array<{ name: string; w: JobWatch; item: number }> = [];
    for (const [name, w] of this.perJob) if (!w.items?.loaded) for (const item of numericNames(w.itemNames.children)) targets.push({ name, w, item });
    // An item whose read fails (a timeout under load) keeps what was known; the others go on.
    let failed = 0;
    let firstError: unknown;
    const itemSeq = this.ledgers.nextReadSeq(); // every read below is sent after every part's
    const states = await mapLimit(targets, (t) => readItemState(this.zk, this.paths, t.name, t.item, itemSeq).catch((err: unknown) => {
      failed++;
      firstError ??= err;
      return undefined;
    }), this.concurrency);
    if (this.closed) return;
    if (failed > 0) this.log.warn({ failed, of: targets.length, err: (firstError as Error)?.message }, 'item sweep: some reads failed; those items keep what was known');
    targets.forEach(({ name, w, item }, i) => {
      const state = states[i];
      if (!state || this.perJob.get(name) !== w || w.items?.loaded) return; // failed, removed, or opened meanwhile
      this.takeSwept(name, w, item, state, changed);
    });
    for (const name of changed) {
      const w = this.perJob.get(name);
      if (w) w.built = undefined;
    }
    if (changed.size > 0) this.emit('changed', { jobs: changed, members: false });
  }

  /**
   * Keeps an item's state as swept. The same versions read again are kept too, without telling of
   * a change: what is new is where the read came (a success its ledger alone recorded shows once
   * its record was read after the part; the part's change already told of the job).
   */
  private takeSwept(name: string, w: JobWatch, item: number, state: ItemState, changed: Set<string>): void {
    const same = sameItemState(w.swept.get(item), state);
    w.swept.set(item, state);
    if (!same) changed.add(name);
  }

  /**
   * Reads every part of every member's ledger (no watch); returns the jobs whose part changed
   * (a watched job's part is read by its watches too).
   */
  private async sweepLedgers(): Promise<Set<string>> {
    const members = this.ledgerList.children;
    const reads = members.flatMap((member) => Array.from({ length: this.ledgers.partsPerMember }, (_, part) => ({ member, part })));
    let failed = 0;
    const partSeq = this.ledgers.nextReadSeq();
    const nodes = await mapLimit(reads, ({ member, part }) => readLedgerPartNode(this.zk, this.paths.ledgerPart(member, part)).catch(() => {
      failed++;
      return undefined;
    }), this.concurrency);
    if (failed > 0) this.log.warn({ failed, of: reads.length }, 'ledger sweep: some reads failed; those parts keep what was known');
    // A run of a watched job that a part read ended has its record read first, and both are kept
    // in the same turn (as `JobItemWatch` does with its own reads of the part).
    const watched = new Map<number, Array<{ name: string; items: JobItemWatch }>>();
    for (const [name, w] of this.perJob) {
      if (!w.items?.loaded) continue;
      const part = this.ledgers.partOf(name);
      const inPart = watched.get(part) ?? [];
      inPart.push({ name, items: w.items });
      watched.set(part, inPart);
    }
    const confirming = reads.flatMap(({ member, part }, i) => {
      const node = nodes[i];
      return node === undefined ? [] : (watched.get(part) ?? []).map((j) => ({ ...j, records: j.items.recordsEndedBy(member, node) }));
    });
    const records = await Promise.all(confirming.map((j) => j.records));
    const changed = new Set<string>();
    if (this.closed) return changed;
    const parts = new Set<number>();
    reads.forEach(({ member, part }, i) => {
      const node = nodes[i];
      if (node !== undefined && this.ledgers.put(member, part, node, partSeq)) parts.add(part);
    });
    confirming.forEach((j, k) => {
      if (j.items.takeRecords(records[k]!)) changed.add(j.name);
    });
    if (parts.size === 0) return changed;
    for (const [name, w] of this.perJob) if (parts.has(this.ledgers.partOf(name))) changed.add(name);
    return changed;
  }

  /**
   * A member's ledger came or went. One that came is read by the watches of the open jobs and by
   * the next sweep; one that went (the leader's sweep of a gone member's) takes its runs with it.
   */
  private ledgersListed(): void {
    if (!this.ledgers.retain(new Set(this.ledgerList.children))) return;
    for (const w of this.perJob.values()) w.built = undefined;
    this.emit('changed', { jobs: new Set(this.perJob.keys()), members: false });
  }

  private setOpen(name: string, open: boolean): void {
    if (this.closed) return;
    const w = this.perJob.get(name);
    if (!w) return; // opened before it exists: watched when it appears (openJob)
    if (open) this.watchItems(name, w);
    else if (w.items && !w.items.paused) {
      // Keep the freshest known state for the sweeps that follow. Paused, not closed: see JobItemWatch.pause.
      for (const [item, s] of w.items.states) w.swept.set(item, s);
      w.items.pause();
      this.jobChanged(name);
    }
  }

  private watchItems(name: string, w: JobWatch): void {
    if (w.items?.paused) {
      const items = w.items;
      items.resume().then(() => {
        if (w.items === items && !this.closed) this.jobChanged(name);
      }, (err: unknown) => this.log.warn({ err: (err as Error)?.message, job: name }, 'item watches failed to resume'));
      return;
    }
    if (w.items) return;
    const items = new JobItemWatch(this.zk, this.paths, name, this.log, { list: this.ledgerList, store: this.ledgers });
    w.items = items;
    items.on('changed', () => {
      if (items.loaded) this.jobChanged(name);
    });
    items.start().then(() => {
      if (w.items === items && !this.closed) this.jobChanged(name);
    }, (err: unknown) => this.log.warn({ err: (err as Error)?.message, job: name }, 'item watches failed to start'));
  }

  /** Assignment nodes were written: the jobs of each node whose data changed are built again. */
  private assignmentsChanged(): void {
    if (this.closed) return;
    const groups = new Set(childrenWritten(this.assignments, this.assignmentsSeen).map(Number));
    this.rebuild([...this.perJob.keys()].filter((name) => groups.has(assignmentGroupOf(name))));
  }

  /** Control nodes were written: the jobs whose control changed are built again. */
  private controlsChanged(): void {
    if (this.closed) return;
    this.rebuild(childrenWritten(this.controls, this.controlsSeen).filter((name) => this.perJob.has(name)));
  }

  /** These jobs' snapshots are built again, and the change goes out. */
  private rebuild(jobs: readonly string[]): void {
    for (const name of jobs) this.perJob.get(name)!.built = undefined;
    if (jobs.length > 0) this.emit('changed', { jobs: new Set(jobs), members: false });
  }

  private membersChanged(): void {
    this.membersBuilt = false;
    // codeMismatch of every job depends on the members.
    for (const w of this.perJob.values()) w.built = undefined;
    this.emit('changed', { jobs: new Set(), members: true });
  }

  private jobChanged(name: string): void {
    const w = this.perJob.get(name);
    if (w) w.built = undefined;
    if (!this.closed) this.emit('changed', { jobs: new Set([name]), members: false });
  }

  private reconcileJobs(): void {
    if (this.closed) return;
    const names = new Set(this.jobs.children);
    const changed = new Set<string>();
    for (const [name, w] of this.perJob) {
      if (!names.has(name)) {
        this.closeJob(w);
        this.perJob.delete(name);
        changed.add(name);
      }
    }
    for (const name of names) {
      let w = this.perJob.get(name);
      if (!w) {
        w = this.openJob(name);
        this.perJob.set(name, w);
      }
      w.built = undefined; // the definition may have changed
      changed.add(name);
    }
    this.emit('changed', { jobs: changed, members: false });
  }

  private openJob(name: string): JobWatch {
    const w: JobWatch = {
      itemNames: new ChildrenCache(this.zk, this.paths.items(name), { withData: false, log: this.log }),
      swept: new Map(),
    };
    w.itemNames.on('changed', () => this.jobChanged(name));
    this.pending.push(w.itemNames.start());
    if (this.openJobs.has(name)) this.watchItems(name, w);
    return w;
  }

  private closeJob(w: JobWatch): void {
    w.itemNames.close();
    w.items?.close();
  }
}

/**
 * The children of `cache` whose data changed (or that came or went) since `seen` was last
 * brought up to date by this call, which does so.
 */
function childrenWritten(cache: ChildrenCache, seen: Map<string, Buffer>): string[] {
  const written: string[] = [];
  for (const name of new Set([...cache.children, ...seen.keys()])) {
    const data = cache.data(name)?.data;
    if (data === seen.get(name)) continue;
    if (data) seen.set(name, data);
    else seen.delete(name);
    written.push(name);
  }
  return written;
}

/** The item numbers among child names, ascending. */
function numericNames(names: readonly string[]): number[] {
  return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}
