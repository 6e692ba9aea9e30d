import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { mapLimit } from '../api/zk-read.js';
import { decodeMemberInfo, type Member } from '../membership/member-info.js';
import { buildJobSnapshot, type FleetSnapshot, type ItemNodes, type JobSnapshot } from '../api/fleet-snapshot.js';
import { zooKeeperRunRows } from '../api/zookeeper-runs.js';
import type { RunRow } from '../history/run-query.js';
import { readItemState, sameItemState, type ItemState } from './item-state.js';
import { JobItemWatch } from './job-item-watch.js';
import { OpenJobs } from './open-jobs.js';
import { ReusedRead } from './reused-read.js';
import { SweepLoop, type SweepTiming } from './sweep-loop.js';

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
  /** Its own children (assignment, control, items, triggers) and their data. */
  children: ChildrenCache;
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
 * Watched: members, drains, definitions, assignments, controls, the item names of every job, and
 * the item nodes (progress records, running markers) of the jobs a browser has open
 * ({@link OpenJobs}). The item nodes of every other job change with every run: they are read in
 * periodic sweeps ({@link SweepLoop}: progress records with a bounded concurrency, a marker only
 * when its record says a run holds it), so that the console's cost does not grow with the fleet's
 * run rate. Builds the same {@link FleetSnapshot} as `readFleetSnapshot` (zkctl's reads),
 * rebuilding only the jobs whose nodes changed. Item histories are read when asked
 * ({@link histories}). Bound to one session: when it ends, close this and build a new one.
 */
export class FleetCache extends EventEmitter<FleetCacheEvents> {
  private readonly workers: ChildrenCache;
  private readonly drains: ChildrenCache;
  private readonly jobs: ChildrenCache;
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
    this.openJobs = options.openJobs ?? new OpenJobs();
    this.concurrency = options.sweep?.concurrency ?? DEFAULT_SWEEP_CONCURRENCY;
    this.sweeps = new SweepLoop(() => this.sweep(), options.sweep ?? {}, log);
  }

  /** Reads everything once (every item swept once) and sets the watches; resolves when the whole fleet is known. */
  async start(): Promise<void> {
    this.workers.on('changed', () => this.membersChanged());
    this.drains.on('changed', () => this.membersChanged());
    this.jobs.on('changed', () => this.reconcileJobs());
    this.openJobs.on('changed', this.onOpenChanged);
    await Promise.all([this.workers.start(), this.drains.start(), this.jobs.start()]);
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
      const states = await mapLimit(items, (item) => readItemState(this.zk, this.paths, name, item), this.concurrency);
      if (this.perJob.get(name) !== w || w.items?.loaded) return;
      items.forEach((item, i) => {
        if (!sameItemState(w.swept.get(item), states[i]!)) {
          w.swept.set(item, states[i]!);
          changed.add(name);
        }
      });
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
    const own = (child: string) => w.children.data(child) ?? null;
    const states = w.items?.loaded ? w.items.states : w.swept;
    const items = new Map<number, ItemNodes>();
    for (const item of numericNames(w.itemNames.children)) {
      const s = states.get(item);
      if (!s) continue; // not read yet (a new job, before the next sweep)
      items.set(item, { progress: s.progress, marker: s.marker, history: histories?.get(item) ?? null });
    }
    const built = buildJobSnapshot(this.paths, name, { definition, assignment: own('assignment'), control: own('control'), itemNames: w.itemNames.children, items }, this.liveMembers());
    if (!histories) w.built = built;
    return built;
  }

  /** One sweep: the items of every job not watched, progress first, a marker only when a run holds the item. */
  private async sweep(): Promise<void> {
    if (this.closed) return;
    const targets: Array<{ name: string; w: JobWatch; item: number }> = [];
    for (const [name, w] of this.perJob) if (!w.items?.loaded) for (const item of numericNames(w.itemNames.children)) targets.push({ name, w, item });
    // An item whose read fails (a timeout under load) keeps what was known; the others go on.
    let failed = 0;
    let firstError: unknown;
    const states = await mapLimit(targets, (t) => readItemState(this.zk, this.paths, t.name, t.item).catch((err: unknown) => {
      failed++;
      firstError ??= err;
      return undefined;
    }), this.concurrency);
    if (this.closed) return;
    if (failed > 0) this.log.warn({ failed, of: targets.length, err: (firstError as Error)?.message }, 'item sweep: some reads failed; those items keep what was known');
    const changed = new Set<string>();
    targets.forEach(({ name, w, item }, i) => {
      const state = states[i];
      if (!state || this.perJob.get(name) !== w || w.items?.loaded) return; // failed, removed, or opened meanwhile
      if (!sameItemState(w.swept.get(item), state)) {
        w.swept.set(item, state);
        changed.add(name);
      }
    });
    for (const name of changed) this.perJob.get(name)!.built = undefined;
    if (changed.size > 0) this.emit('changed', { jobs: changed, members: false });
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
    const items = new JobItemWatch(this.zk, this.paths, name, this.log);
    w.items = items;
    items.on('changed', () => {
      if (items.loaded) this.jobChanged(name);
    });
    items.start().then(() => {
      if (w.items === items && !this.closed) this.jobChanged(name);
    }, (err: unknown) => this.log.warn({ err: (err as Error)?.message, job: name }, 'item watches failed to start'));
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
      children: new ChildrenCache(this.zk, this.paths.job(name), { withData: true, log: this.log }),
      itemNames: new ChildrenCache(this.zk, this.paths.items(name), { withData: false, log: this.log }),
      swept: new Map(),
    };
    w.children.on('changed', () => this.jobChanged(name));
    w.itemNames.on('changed', () => this.jobChanged(name));
    this.pending.push(w.children.start(), w.itemNames.start());
    if (this.openJobs.has(name)) this.watchItems(name, w);
    return w;
  }

  private closeJob(w: JobWatch): void {
    w.children.close();
    w.itemNames.close();
    w.items?.close();
  }
}

/** The item numbers among child names, ascending. */
function numericNames(names: readonly string[]): number[] {
  return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
}
