import { ChildrenCache } from '../../src/zk/children-cache.js';
import { AssignmentWatch } from '../lib/assignment-watch.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';

/** One assignment of a job as the observer saw it. */
export interface SeenAssignment {
  /** When the observer's watch delivered it (ms since the epoch). */
  at: number;
  /** When the server applied its write (the node's `mtime`: ZooKeeper's clock, this machine's). */
  writtenAt: number;
  /** Worker id owning each item (null: none), from the record's member → worker map. */
  owners: ReadonlyArray<string | null>;
  /** Member name owning each item. */
  members: ReadonlyArray<string | null>;
}

/**
 * What the observer session sees of the fleet, with the instant it saw it: member znodes
 * disappearing from `/workers` (a SIGKILLed worker's node goes when ZooKeeper expires its session)
 * and every job's assignment. Times include the observer's own notification latency (a watch event
 * plus one read on loopback, about a millisecond).
 */
export class FleetTimeline {
  private assignments: AssignmentWatch | undefined;
  private readonly history = new Map<string, SeenAssignment[]>();
  private readonly goneAt = new Map<string, number>();
  private members: ChildrenCache | undefined;
  private known = new Set<string>();

  constructor(
    private readonly zk: ZkClient,
    private readonly paths: ZkPaths,
    private readonly jobs: readonly string[],
  ) {}

  async start(): Promise<void> {
    const members = new ChildrenCache(this.zk, this.paths.workers, { withData: false });
    this.members = members;
    members.on('changed', () => {
      const now = Date.now();
      const current = new Set(members.children);
      for (const name of this.known) if (!current.has(name) && !this.goneAt.has(name)) this.goneAt.set(name, now);
      this.known = current;
    });
    await members.start();
    this.known = new Set(members.children);
    for (const job of this.jobs) this.history.set(job, []);
    this.assignments = new AssignmentWatch(this.zk, this.paths, this.jobs, (job, a, stat) => {
      this.history.get(job)!.push({ at: Date.now(), writtenAt: stat.mtime, owners: a.owners.map((m) => (m === null ? null : (a.workers[m] ?? m))), members: a.owners });
    });
    await this.assignments.start();
  }

  /** When the observer first saw member `name` missing from `/workers`, if it did. */
  memberGoneAt(name: string): number | undefined {
    return this.goneAt.get(name);
  }

  /**
   * The first assignment of `job` seen at or after `since` in which `item` is owned by a worker
   * other than `from` (its new owner), if any.
   */
  movedAt(job: string, item: number, from: string, since: number): { at: number; to: string } | undefined {
    for (const s of this.history.get(job) ?? []) {
      const owner = s.owners[item];
      if (s.at >= since && owner !== undefined && owner !== null && owner !== from) return { at: s.at, to: owner };
    }
    return undefined;
  }

  /** The first assignment of `job` seen at or after `since` that names none of `member`'s items. */
  clearedAt(job: string, member: string, since: number): number | undefined {
    return this.cleared(job, member, since)?.at;
  }

  /** When the server applied the write of that assignment (`clearedAt`'s), if it was seen. */
  clearedWrittenAt(job: string, member: string, since: number): number | undefined {
    return this.cleared(job, member, since)?.writtenAt;
  }

  private cleared(job: string, member: string, since: number): SeenAssignment | undefined {
    return (this.history.get(job) ?? []).find((s) => s.at >= since && !s.members.includes(member));
  }

  /** Drops all but each job's latest assignment (between repetitions). */
  compact(): void {
    for (const seen of this.history.values()) seen.splice(0, Math.max(0, seen.length - 1));
  }

  close(): void {
    this.members?.close();
    this.assignments?.close();
  }
}
