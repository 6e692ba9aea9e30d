import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, MAX_SHARDS } from '../config/job-definition.js';
import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { jobHash } from './job-hash.js';
import { FieldProblem, MAX_ID_LENGTH, array, entries, integer, integers, isoTime, itemKey, object, string } from './record-fields.js';
import type { AssignmentRecord } from './assignment-record.js';
import type { ZkPaths } from '../zk/zk-paths.js';

/**
 * Assignment nodes (`/assignments/<group>`, run protocol 2): every job's assignment lives in the
 * group its name hashes to. A worker's loss rewrites these few nodes instead of one per job, and
 * each reader follows them instead of a node per job (docs/ARCHITECTURE.md, "Assignments").
 */
export const ASSIGNMENT_GROUPS = 64;

/** The group holding `job`'s assignment. */
export function assignmentGroupOf(job: string): number {
  return jobHash(job) % ASSIGNMENT_GROUPS;
}

/** The path of the assignment node that holds `job`'s assignment. */
export function assignmentNodeOf(paths: ZkPaths, job: string): string {
  return paths.assignmentGroup(assignmentGroupOf(job));
}

/**
 * Largest assignment node the leader writes: a quarter of the smallest request limit, so that the
 * multi that carries it has room for the fences of the members it takes items from. About 80,000
 * items' owners; at 64 nodes, millions of items in all (docs/ARCHITECTURE.md, "Assignments").
 */
export const MAX_GROUP_BYTES = 256 * 1024;

/** Members named in one group node: far more than a fleet has. */
const MAX_GROUP_MEMBERS = 100_000;
/** Jobs in one group node: the node's size (1 MiB) bounds it well before this. */
const MAX_GROUP_JOBS = 1_000_000;

/**
 * One assignment node, decoded: its jobs' assignments, each as the leader wrote it (the group's
 * `leader` and `updatedAt` are those of the write that last changed the node).
 */
export interface AssignmentGroup {
  group: number;
  leader: string;
  updatedAt: string;
  jobs: ReadonlyMap<string, AssignmentRecord>;
}

/**
 * Encodes a group's assignments: owners as indexes into the node's `members` (with their worker ids
 * in `workers`), so a member's name is stored once per node, not once per item.
 */
export function encodeAssignmentGroup(group: number, leader: string, updatedAt: string, records: Iterable<AssignmentRecord>): Buffer {
  const members: string[] = [];
  const workers: string[] = [];
  const index = new Map<string, number>();
  const jobs: Record<string, unknown> = {};
  for (const r of records) {
    const owners = r.owners.map((owner) => {
      if (owner === null) return null;
      let k = index.get(owner);
      if (k === undefined) {
        k = members.length;
        index.set(owner, k);
        members.push(owner);
        workers.push(r.workers[owner] ?? '?');
      }
      return k;
    });
    const entry: Record<string, unknown> = { shards: r.shards, generation: r.generation, owners };
    if (r.disabled && r.disabled.length > 0) entry.disabled = r.disabled;
    if (r.pins && Object.keys(r.pins).length > 0) entry.pins = r.pins;
    jobs[r.job] = entry;
  }
  return encodeJson({ group, leader, updatedAt, members, workers, jobs });
}

/**
 * Reads an assignment node at `path` (group `group`): every job in it hashes to the group, every
 * owner indexes `members`, one owner per item. No data decodes to `undefined` (no node yet).
 */
export function readAssignmentGroup(data: Buffer | undefined, path: string, group: number): Decoded<AssignmentGroup | undefined> {
  return checkedJson(data, path, (raw) => {
    const o = object(raw, 'assignment group');
    const stored = integer(o.group, 'group', 0, ASSIGNMENT_GROUPS - 1);
    if (stored !== group) throw new FieldProblem(`group is ${stored}, but the node is group ${group}`);
    const leader = string(o.leader, 'leader', MAX_ID_LENGTH);
    const updatedAt = isoTime(o.updatedAt, 'updatedAt');
    const members = array(o.members, 'members', MAX_GROUP_MEMBERS).map((m, i) => string(m, `members[${i}]`, MAX_ID_LENGTH));
    const workers = array(o.workers, 'workers', MAX_GROUP_MEMBERS).map((w, i) => string(w, `workers[${i}]`, MAX_ID_LENGTH));
    if (workers.length !== members.length) throw new FieldProblem(`workers must have one entry per member (${members.length} members; has ${workers.length})`);
    const jobs = new Map<string, AssignmentRecord>();
    const raws = entries(o.jobs, 'jobs', MAX_GROUP_JOBS, (name, key) => {
      string(name, key, MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN);
      if (assignmentGroupOf(name) !== group) throw new FieldProblem(`${key}: job ${name} belongs to group ${assignmentGroupOf(name)}, not ${group}`);
    }, (v, key) => object(v, key));
    for (const [name, j] of Object.entries(raws)) {
      const key = `jobs.${name}`;
      const shards = integer(j.shards, `${key}.shards`, 1, MAX_SHARDS);
      const owned: Record<string, string> = {};
      const owners = array(j.owners, `${key}.owners`, MAX_SHARDS).map((m, i) => {
        if (m === null) return null;
        const k = integer(m, `${key}.owners[${i}]`, 0, members.length - 1);
        owned[members[k]!] = workers[k]!;
        return members[k]!;
      });
      if (owners.length !== shards) throw new FieldProblem(`${key}.owners must have one entry per item (shards is ${shards}; has ${owners.length})`);
      const record: AssignmentRecord = {
        job: name,
        shards,
        generation: integer(j.generation, `${key}.generation`, 0, Number.MAX_SAFE_INTEGER),
        leader,
        owners,
        workers: owned,
        updatedAt,
      };
      if (j.disabled !== undefined) record.disabled = integers(j.disabled, `${key}.disabled`, 0, shards - 1).sort((a, b) => a - b);
      if (j.pins !== undefined) record.pins = entries(j.pins, `${key}.pins`, shards, itemKey(shards - 1), (w, k) => string(w, k, MAX_ID_LENGTH));
      jobs.set(name, record);
    }
    return { group, leader, updatedAt, jobs };
  });
}

/** {@link readAssignmentGroup} without the reason: undefined for no data or malformed data. */
export function decodeAssignmentGroup(data: Buffer | undefined, group: number): AssignmentGroup | undefined {
  return valueOr(readAssignmentGroup(data, `/assignments/${group}`, group), undefined);
}

/**
 * A job's assignment read from its group's node data (`path`: the node's): undefined when the node
 * or the job's entry does not exist; malformed when the node does not decode.
 */
export function readJobAssignment(data: Buffer | undefined, path: string, job: string): Decoded<AssignmentRecord | undefined> {
  const group = assignmentGroupOf(job);
  let read = data && decodedNodes.get(data);
  if (!read || read.path !== path) {
    read = { path, read: readAssignmentGroup(data, path, group) };
    if (data) decodedNodes.set(data, read);
  }
  return read.read.ok ? { ok: true, value: read.read.value?.jobs.get(job) } : read.read;
}

/** Each node's data as decoded, while it is held: a fleet's snapshot asks a node for each of its ~150 jobs. */
const decodedNodes = new WeakMap<Buffer, { path: string; read: Decoded<AssignmentGroup | undefined> }>();

/** {@link readJobAssignment} without the reason. */
export function decodeJobAssignment(data: Buffer | undefined, job: string): AssignmentRecord | undefined {
  return decodeAssignmentGroup(data, assignmentGroupOf(job))?.jobs.get(job);
}
