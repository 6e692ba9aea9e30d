import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { NodeCache } from '../zk/node-cache.js';
import { mapLimit } from '../api/zk-read.js';
import { decodeMemberInfo, type Member } from '../membership/member-info.js';
import { buildJobSnapshot, type FleetSnapshot, type ItemNodes, type JobSnapshot } from '../api/fleet-snapshot.js';

export interface FleetCacheEvents {
  /** Something changed; `jobs` names the jobs whose nodes changed, `members` whether workers or drains did. */
  changed: [change: { jobs: ReadonlySet<string>; members: boolean }];
}

/** The watches of one job: its own children (assignment, control) and its items' data. */
interface JobWatch {
  children: ChildrenCache;
  items: ChildrenCache;
  /** One per item node: its running marker (the item's progress comes with `items`). */
  perItem: Map<string, NodeCache>;
  /** The snapshot as last built, until the job's nodes change. */
  built?: JobSnapshot;
}

/** Item histories (`items/<i>/history`) per job and item, as read. */
export type Histories = ReadonlyMap<string, ReadonlyMap<number, { data: Buffer }>>;

/** A read of every item's history is reused for this long. */
const HISTORY_REUSE_MS = 3000;

/**
 * The fleet as ZooKeeper's watches keep it: one set of watches per console process, however many
 * browsers read it: members, drains, definitions, assignments, controls, every item's progress and
 * running marker. Builds the same {@link FleetSnapshot} as `readFleetSnapshot` (zkctl's reads),
 * rebuilding only the jobs whose nodes changed. Item histories are not watched (they change with
 * every run and only one page shows them): {@link histories} reads them when asked. Bound to one
 * session: when it ends, close this and build a new one on the next session.
 */
export class FleetCache extends EventEmitter<FleetCacheEvents> {
  private readonly workers: ChildrenCache;
  private readonly drains: ChildrenCache;
  private readonly jobs: ChildrenCache;
  private readonly perJob = new Map<string, JobWatch>();
  private members: Member[] = [];
  private membersBuilt = false;
  private closed = false;
  private readonly pending: Promise<void>[] = [];

  constructor(private readonly zk: ZkClient, private readonly paths: ZkPaths, private readonly log: Logger) {
    super();
    this.workers = new ChildrenCache(zk, paths.workers, { withData: true, log });
    this.drains = new ChildrenCache(zk, paths.drains, { withData: false, log });
    this.jobs = new ChildrenCache(zk, paths.jobs, { withData: true, log });
  }

  /** Reads everything once and sets the watches; resolves when the whole fleet is known. */
  async start(): Promise<void> {
    this.workers.on('changed', () => this.membersChanged());
    this.drains.on('changed', () => this.membersChanged());
    this.jobs.on('changed', () => this.reconcileJobs());
    await Promise.all([this.workers.start(), this.drains.start(), this.jobs.start()]);
    this.reconcileJobs();
    // Each job and item cache started meanwhile may add more (items of new jobs): wait for all.
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
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

  private historyRead: { at: number; value: Promise<Histories> } | undefined;

  /** Reads the item histories of `only` these jobs, or of all (a read of all is reused for a few seconds). */
  histories(only?: readonly string[]): Promise<Histories> {
    if (only === undefined && this.historyRead && Date.now() - this.historyRead.at < HISTORY_REUSE_MS) return this.historyRead.value;
    const names = only ?? [...this.perJob.keys()];
    const pairs = names.flatMap((job) => (this.perJob.get(job)?.items.children ?? []).filter((n) => /^\d+$/.test(n)).map((n) => [job, Number(n)] as const));
    const value = mapLimit(pairs, async ([job, item]) => [job, item, await this.zk.getDataIfExists(this.paths.history(job, item))] as const, 32).then((rows) => {
      const out = new Map<string, Map<number, { data: Buffer }>>();
      for (const [job, item, found] of rows) if (found) (out.get(job) ?? out.set(job, new Map()).get(job)!).set(item, found);
      return out as Histories;
    });
    if (only === undefined) this.historyRead = { at: Date.now(), value };
    return value;
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
    const items = new Map<number, ItemNodes>();
    for (const itemName of w.items.children) {
      if (!/^\d+$/.test(itemName)) continue;
      const c = w.perItem.get(itemName);
      items.set(Number(itemName), {
        progress: w.items.data(itemName) ?? null,
        marker: c?.current ?? null,
        history: histories?.get(Number(itemName)) ?? null,
      });
    }
    const built = buildJobSnapshot(this.paths, name, { definition, assignment: own('assignment'), control: own('control'), itemNames: w.items.children, items }, this.liveMembers());
    if (!histories) w.built = built;
    return built;
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
      items: new ChildrenCache(this.zk, this.paths.items(name), { withData: true, log: this.log }),
      perItem: new Map(),
    };
    w.children.on('changed', () => this.jobChanged(name));
    w.items.on('changed', () => {
      this.reconcileItems(name, w);
      this.jobChanged(name);
    });
    this.pending.push(w.children.start(), w.items.start().then(() => this.reconcileItems(name, w)));
    return w;
  }

  private reconcileItems(name: string, w: JobWatch): void {
    if (this.closed || this.perJob.get(name) !== w) return;
    const names = new Set(w.items.children.filter((n) => /^\d+$/.test(n)));
    for (const [item, c] of w.perItem) {
      if (!names.has(item)) {
        c.close();
        w.perItem.delete(item);
      }
    }
    for (const item of names) {
      if (w.perItem.has(item)) continue;
      const c = new NodeCache(this.zk, this.paths.running(name, Number(item)), this.log);
      c.on('changed', () => this.jobChanged(name));
      w.perItem.set(item, c);
      this.pending.push(c.start());
    }
  }

  private closeJob(w: JobWatch): void {
    w.children.close();
    w.items.close();
    for (const c of w.perItem.values()) c.close();
  }
}
