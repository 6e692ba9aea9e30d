import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { JobDefinition } from '../config/job-definition.js';
import type { Member } from '../membership/member-info.js';
import { readMembers } from '../membership/read-members.js';
import { decodeJob } from '../model/job-record.js';
import { decodeAssignment, type AssignmentRecord } from '../model/assignment-record.js';
import { decodeControl, type JobControl } from '../model/job-control.js';
import { decodeHistory, decodeProgress, type ProgressRecord } from '../model/progress-record.js';
import { decodeMarker, type RunningMarker } from '../model/running-marker.js';
import { RequestError } from '../errors/request-error.js';
import { childrenIfExists, mapLimit } from './zk-read.js';

/** A running marker as found: its record and the server time it was created. */
export interface MarkerSnapshot {
  /** Undefined when the node's data does not decode. */
  record: RunningMarker | undefined;
  /** Server clock (ms) when the marker was created. */
  ctime: number;
}

export interface ItemSnapshot {
  item: number;
  /** Whether the item's progress node exists. */
  exists: boolean;
  progress: ProgressRecord;
  marker: MarkerSnapshot | null;
}

export interface JobSnapshot {
  name: string;
  /** Undefined when the stored definition does not decode (see `problem`). */
  definition: JobDefinition | undefined;
  /** Data version of the definition node. */
  version: number;
  /** Why the definition could not be used, when it could not. */
  problem?: string;
  assignment: AssignmentRecord | undefined;
  control: JobControl;
  /** Items 0..shards-1 (and any extra item node found), ascending. */
  items: ItemSnapshot[];
}

/** Everything the operator views are computed from, read in one pass. */
export interface FleetSnapshot {
  namespace: string;
  /** `Date.now()` when the read started. */
  readAt: number;
  /** Live members in sequence order; the first leads. */
  members: Member[];
  /** Worker ids with a drain request. */
  drains: string[];
  jobs: JobSnapshot[];
}

/**
 * Reads the fleet under a namespace: members, drain requests and, per job (all, or `only`), the
 * definition, assignment, control and every item's progress and running marker.
 * @throws RequestError NOT_FOUND when the namespace or a job named in `only` does not exist.
 */
export async function readFleetSnapshot(zk: ZkClient, paths: ZkPaths, only?: readonly string[]): Promise<FleetSnapshot> {
  const readAt = Date.now();
  if ((await zk.exists(paths.root)) === null) {
    throw new RequestError('NOT_FOUND', `namespace ${paths.root} does not exist on ${zk.connectString}: no worker has joined it and no job was applied (check --namespace / ZKSHARD_NAMESPACE)`);
  }
  const [members, drains, names] = await Promise.all([
    readMembers(zk, paths),
    childrenIfExists(zk, paths.drains),
    only ? Promise.resolve([...only]) : childrenIfExists(zk, paths.jobs),
  ]);
  const jobs = await mapLimit([...names].sort(), (name) => readJob(zk, paths, name, only !== undefined), 8);
  return {
    namespace: paths.root.slice(1),
    readAt,
    members,
    drains: drains.sort(),
    jobs: jobs.filter((j): j is JobSnapshot => j !== undefined),
  };
}

async function readJob(zk: ZkClient, paths: ZkPaths, name: string, required: boolean): Promise<JobSnapshot | undefined> {
  const [found, assignment, control, itemNames] = await Promise.all([
    zk.getDataIfExists(paths.job(name)),
    zk.getDataIfExists(paths.assignment(name)),
    zk.getDataIfExists(paths.control(name)),
    childrenIfExists(zk, paths.items(name)),
  ]);
  if (!found) {
    if (required) throw new RequestError('NOT_FOUND', `no job named ${JSON.stringify(name)} in namespace ${paths.root}`);
    return undefined;
  }
  const definition = decodeJob(found.data);
  const record = decodeAssignment(assignment?.data);
  const shards = definition?.shards ?? record?.shards ?? 0;
  const numbers = new Set<number>(Array.from({ length: shards }, (_, i) => i));
  for (const n of itemNames) if (/^\d+$/.test(n)) numbers.add(Number(n));
  const present = new Set(itemNames);
  const items = await mapLimit([...numbers].sort((a, b) => a - b), async (item): Promise<ItemSnapshot> => {
    if (!present.has(String(item))) return { item, exists: false, progress: {}, marker: null };
    const [progress, marker, history] = await Promise.all([
      zk.getDataIfExists(paths.item(name, item)),
      zk.getDataIfExists(paths.running(name, item)),
      zk.getDataIfExists(paths.history(name, item)),
    ]);
    return {
      item,
      exists: progress !== null,
      progress: { ...decodeProgress(progress?.data), recent: decodeHistory(history?.data) },
      marker: marker ? { record: decodeMarker(marker.data), ctime: marker.stat.ctime } : null,
    };
  });
  return {
    name,
    definition,
    version: found.stat.version,
    ...(definition ? {} : { problem: `stored definition does not decode: ${truncateText(found.data.toString('utf8'), 60)}` }),
    assignment: record,
    control: decodeControl(control?.data), // a fresh empty control when the node does not exist
    items,
  };
}

function truncateText(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat === '' ? '(empty)' : flat;
}
