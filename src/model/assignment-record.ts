import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, MAX_SHARDS } from '../config/job-definition.js';
import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { FieldProblem, MAX_ID_LENGTH, array, entries, integer, integers, isoTime, itemKey, object, string } from './record-fields.js';

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

/**
 * Reads an assignment: `owners` has one entry per item (`shards` of them, 1..MAX_SHARDS), every
 * name and list is bounded. No data decodes to `undefined` (no assignment yet).
 */
export function readAssignment(data: Buffer | undefined, path: string): Decoded<AssignmentRecord | undefined> {
  return checkedJson(data, path, (raw) => {
    const o = object(raw, 'assignment');
    const shards = integer(o.shards, 'shards', 1, MAX_SHARDS);
    const owners = array(o.owners, 'owners', MAX_SHARDS).map((m, i) => (m === null ? null : string(m, `owners[${i}]`, MAX_ID_LENGTH)));
    if (owners.length !== shards) throw new FieldProblem(`owners must have one entry per item (shards is ${shards}; has ${owners.length})`);
    const a: AssignmentRecord = {
      job: string(o.job, 'job', MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN),
      shards,
      generation: integer(o.generation, 'generation', 0, Number.MAX_SAFE_INTEGER),
      leader: string(o.leader, 'leader', MAX_ID_LENGTH),
      owners,
      workers: entries(o.workers, 'workers', MAX_SHARDS, (k, key) => void string(k, key, MAX_ID_LENGTH), (w, key) => string(w, key, MAX_ID_LENGTH)),
      updatedAt: isoTime(o.updatedAt, 'updatedAt'),
    };
    if (o.disabled !== undefined) a.disabled = integers(o.disabled, 'disabled', 0, shards - 1);
    if (o.pins !== undefined) a.pins = entries(o.pins, 'pins', shards, itemKey(shards - 1), (w, key) => string(w, key, MAX_ID_LENGTH));
    return a;
  });
}

/** {@link readAssignment} without the reason: undefined for no data or malformed data. */
export function decodeAssignment(data: Buffer | undefined): AssignmentRecord | undefined {
  return valueOr(readAssignment(data, '/jobs/?/assignment'), undefined);
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
