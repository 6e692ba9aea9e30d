/**
 * A job's assignment, written only by the leader (in its group's node, `model/assignment-group.ts`),
 * in a transaction that also checks the leader's own membership node.
 */
export interface AssignmentRecord {
  job: string;
  shards: number;
  /** Grows by one with every write that changes this job's entry. */
  generation: number;
  /** Member name of the leader that last wrote the job's group. */
  leader: string;
  /** Member name owning each item (index = item), or null when no worker can run it. */
  owners: (string | null)[];
  /** Items that must not fire (all of them when the job is disabled), ascending. */
  disabled?: number[];
  /** Items pinned by an operator and honoured here: item → worker id. */
  pins?: Record<string, string>;
  /** Worker id of each member named in `owners`, for people and tools. */
  workers: Record<string, string>;
  /** ISO time of the last write of the job's group. */
  updatedAt: string;
}

/** Items owned by `member` in an assignment. */
export function itemsOf(a: AssignmentRecord | undefined, member: string): number[] {
  if (!a) return [];
  const items: number[] = [];
  a.owners.forEach((owner, item) => {
    if (owner === member) items.push(item);
  });
  return items;
}
