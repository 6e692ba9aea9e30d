import { decodeJson, encodeJson } from './json-codec.js';

/**
 * A job's assignment (`/jobs/<job>/assignment`), written only by the leader, in a transaction
 * that also checks the leader's own membership node.
 */
export interface AssignmentRecord {
  job: string;
  shards: number;
  /** Grows by one with every write. */
  generation: number;
  /** Member name of the leader that wrote it. */
  leader: string;
  /** Member name owning each item (index = item), or null when no worker can run it. */
  owners: (string | null)[];
  /** Items that must not fire (all of them when the job is disabled), ascending. */
  disabled?: number[];
  /** Items pinned by an operator and honoured here: item → worker id. */
  pins?: Record<string, string>;
  /** Worker id of each member named in `owners`, for people and tools. */
  workers: Record<string, string>;
  /** ISO time of the write. */
  updatedAt: string;
}

export const encodeAssignment = (a: AssignmentRecord): Buffer => encodeJson(a);

export function decodeAssignment(data: Buffer | undefined): AssignmentRecord | undefined {
  const a = decodeJson<AssignmentRecord>(data);
  return a && Array.isArray(a.owners) ? a : undefined;
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
