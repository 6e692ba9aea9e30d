import type { AssignmentRecord } from '../../src/model/assignment-record.js';
import { assignmentGroupOf, decodeAssignmentGroup } from '../../src/model/assignment-group.js';
import { NodeCache } from '../../src/zk/node-cache.js';
import type { ZkSession } from '../../src/zk/zk-session.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import type { ZkStat } from '../../src/zk/zk-stat.js';

/**
 * Follows the assignment nodes holding `jobs` and reports each new assignment of one of them (a
 * generation not seen before), with the stat of the node write that carried it. A bench's observer
 * watches what a worker watches: the nodes, not a node per job.
 */
export class AssignmentWatch {
  private readonly caches: NodeCache[] = [];
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly jobs: readonly string[],
    private readonly seen: (job: string, record: AssignmentRecord, stat: ZkStat) => void,
  ) {}

  async start(): Promise<void> {
    const byGroup = new Map<number, string[]>();
    for (const job of this.jobs) {
      const group = assignmentGroupOf(job);
      byGroup.set(group, [...(byGroup.get(group) ?? []), job]);
    }
    for (const [group, jobs] of byGroup) {
      const cache = new NodeCache(this.zk, this.paths.assignmentGroup(group));
      this.caches.push(cache);
      cache.on('changed', (snap) => {
        const records = snap && decodeAssignmentGroup(snap.data, group)?.jobs;
        if (!records) return;
        for (const job of jobs) {
          const record = records.get(job);
          if (!record || this.generations.get(job) === record.generation) continue;
          this.generations.set(job, record.generation);
          this.seen(job, record, snap.stat);
        }
      });
    }
    await Promise.all(this.caches.map((c) => c.start()));
  }

  close(): void {
    for (const cache of this.caches) cache.close();
  }
}
