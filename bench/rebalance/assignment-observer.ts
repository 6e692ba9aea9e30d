import { AssignmentWatch } from '../lib/assignment-watch.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { epochNow } from './run-recorder.js';

/** Owners of one job's items (member names), as seen at `at` (ms since the epoch). */
export interface ObservedAssignment {
  at: number;
  /** When ZooKeeper wrote it (the znode's mtime, the server's clock: this machine's). */
  writtenAt: number;
  generation: number;
  owners: readonly (string | null)[];
}

/** Owners per job. */
export type AssignmentSnapshot = ReadonlyMap<string, readonly (string | null)[]>;

/**
 * Watches every job's assignment node from its own ZooKeeper session and keeps, per job, each
 * assignment seen with the moment it was seen (the observer's own read latency included).
 */
export class AssignmentObserver {
  readonly zk: ZkClient;
  private assignments: AssignmentWatch | undefined;
  private readonly history = new Map<string, ObservedAssignment[]>();
  private lastChange = 0;

  constructor(
    connect: string,
    private readonly paths: ZkPaths,
    private readonly jobs: readonly string[],
  ) {
    this.zk = new ZkClient({ connect, sessionTimeoutMs: 15_000, connectTimeoutMs: 10_000 });
  }

  async start(): Promise<void> {
    await this.zk.start();
    for (const job of this.jobs) this.history.set(job, []);
    this.assignments = new AssignmentWatch(this.zk, this.paths, this.jobs, (job, record, stat) => {
      this.lastChange = epochNow();
      this.history.get(job)!.push({ at: this.lastChange, writtenAt: stat.mtime, generation: record.generation, owners: record.owners });
    });
    await this.assignments.start();
  }

  /** When an assignment change was last seen (ms since the epoch; 0 before any). */
  get lastChangeAt(): number {
    return this.lastChange;
  }

  /** The latest owners of every job seen so far (jobs without an assignment yet are absent). */
  snapshot(): AssignmentSnapshot {
    const out = new Map<string, readonly (string | null)[]>();
    for (const [job, seen] of this.history) {
      const last = seen[seen.length - 1];
      if (last) out.set(job, last.owners);
    }
    return out;
  }

  /**
   * The observation from which on the item has had `owner` without interruption: the first of the
   * observations ending with the latest one that all name `owner`. Undefined when the latest
   * observation does not name it.
   */
  ownedSince(job: string, item: number, owner: string): ObservedAssignment | undefined {
    const seen = this.history.get(job) ?? [];
    let from: ObservedAssignment | undefined;
    for (const o of seen) {
      if (o.owners[item] !== owner) from = undefined;
      else from ??= o;
    }
    return from;
  }

  /** Drops all but the latest observation of each job (call between measurements). */
  compact(): void {
    for (const seen of this.history.values()) seen.splice(0, Math.max(0, seen.length - 1));
  }

  async close(): Promise<void> {
    this.assignments?.close();
    await this.zk.close();
  }
}
