import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { JobDefinition } from '../config/job-definition.js';
import type { Member } from '../membership/member-info.js';
import { readMembers } from '../membership/read-members.js';
import { readJob } from '../model/job-record.js';
import { readAssignment, type AssignmentRecord } from '../model/assignment-record.js';
import { readControl, type JobControl } from '../model/job-control.js';
import { readHistory, readProgress, type ProgressRecord } from '../model/progress-record.js';
import { readMarker, type RunningMarker } from '../model/running-marker.js';
import { valueOr, type Decoded } from '../model/decoded.js';
import { RequestError } from '../errors/request-error.js';
import { mapLimit } from './zk-read.js';
import { childrenIfExists } from '../zk/children-if-exists.js';

/** A running marker as found: its record and the server time it was created. */
export interface MarkerSnapshot {
  /** Undefined when the node's data does not decode. */
  record: RunningMarker | undefined;
  /** Server clock (ms) when the marker was created. */
  ctime: number;
  /**
   * The run's fencing token: the zxid of the transaction that created the marker, which is the
   * one that began the run (it also set the progress record: the token the handler got is that
   * record's mzxid, the same zxid). Null when the read did not return it.
   */
  token: string | null;
}

export interface ItemSnapshot {
  item: number;
  /** Whether the item's progress node exists. */
  exists: boolean;
  /** `{}` when the record does not decode (see `problems`). */
  progress: ProgressRecord;
  marker: MarkerSnapshot | null;
  /** Records of the item that do not decode: `<path>: <what is wrong>` (workers leave the item alone). */
  problems?: string[];
}

export interface JobSnapshot {
  name: string;
  /** Undefined when the stored definition does not decode (see `problem`). */
  definition: JobDefinition | undefined;
  /** Data version of the definition node. */
  version: number;
  /** Why the definition could not be used, when it could not. */
  problem?: string;
  /** Undefined when there is none or it does not decode (see `problems`). */
  assignment: AssignmentRecord | undefined;
  /** The empty control when there is none or it does not decode (see `problems`). */
  control: JobControl;
  /** The job's assignment or control record does not decode: `<path>: <what is wrong>`. */
  problems?: string[];
  /**
   * Live workers whose own file names another handler or command for this job than the stored
   * definition (they run their own): worker id and member name, as the workers publish it.
   */
  codeMismatch?: Array<{ worker: string; member: string }>;
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
  const jobs = await mapLimit([...names].sort(), (name) => readJobSnapshot(zk, paths, name, only !== undefined, members), 8);
  return {
    namespace: paths.root.slice(1),
    readAt,
    members,
    drains: drains.sort(),
    jobs: jobs.filter((j): j is JobSnapshot => j !== undefined),
  };
}

/** The value of a checked read; its problem, if any, goes to `problems`. */
function take<T, F>(d: Decoded<T>, fallback: F, problems: string[]): T | F {
  if (!d.ok) problems.push(`${d.error.path}: ${d.error.reason}`);
  return valueOr(d, fallback);
}

async function readJobSnapshot(zk: ZkClient, paths: ZkPaths, name: string, required: boolean, members: readonly Member[]): Promise<JobSnapshot | undefined> {
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
  const present = new Set(itemNames);
  const nodes = new Map<number, ItemNodes>();
  await mapLimit(itemNumbers(found.data, paths, name, assignment?.data, itemNames), async (item) => {
    if (!present.has(String(item))) return;
    const [progress, marker, history] = await Promise.all([
      zk.getDataIfExists(paths.item(name, item)),
      zk.getDataIfExists(paths.running(name, item)),
      zk.getDataIfExists(paths.history(name, item)),
    ]);
    nodes.set(item, { progress, marker, history });
  });
  return buildJobSnapshot(paths, name, { definition: found, assignment, control, itemNames, items: nodes }, members);
}

/** A znode as read: its data and stat. */
interface NodeRead {
  data: Buffer;
  stat: { ctime: number; version: number; czxid?: bigint };
}

/** The nodes of one item as read (null: the node does not exist). */
export interface ItemNodes {
  progress: NodeRead | null;
  marker: NodeRead | null;
  history: { data: Buffer } | null;
}

/** The nodes of one job as read (by {@link readFleetSnapshot}, or kept by the console's watches). */
export interface JobNodes {
  definition: NodeRead;
  assignment: { data: Buffer } | null;
  control: { data: Buffer } | null;
  /** Child names of `items` (an empty list when the node is missing). */
  itemNames: readonly string[];
  /** Per item number, the nodes read; an item absent from the map has no progress node. */
  items: ReadonlyMap<number, ItemNodes>;
}

/** The item numbers of a job: 0..shards-1 and any extra numbered item node, ascending. */
export function itemNumbers(definitionData: Buffer, paths: ZkPaths, name: string, assignmentData: Buffer | undefined, itemNames: readonly string[]): number[] {
  const read = readJob(definitionData, paths.job(name), name);
  const shards = (read.ok ? read.value?.shards : undefined) ?? valueOr(readAssignment(assignmentData, paths.assignment(name)), undefined)?.shards ?? 0;
  const numbers = new Set<number>(Array.from({ length: shards }, (_, i) => i));
  for (const n of itemNames) if (/^\d+$/.test(n)) numbers.add(Number(n));
  return [...numbers].sort((a, b) => a - b);
}

/** One job's snapshot from its nodes as read. Pure: the same for zkctl's reads and the console's watches. */
export function buildJobSnapshot(paths: ZkPaths, name: string, nodes: JobNodes, members: readonly Member[]): JobSnapshot {
  const found = nodes.definition;
  const read = readJob(found.data, paths.job(name), name);
  const definition = read.ok ? read.value : undefined;
  const problems: string[] = [];
  const record = take(readAssignment(nodes.assignment?.data, paths.assignment(name)), undefined, problems);
  const present = new Set(nodes.itemNames);
  const items = itemNumbers(found.data, paths, name, nodes.assignment?.data, nodes.itemNames).map((item): ItemSnapshot => {
    const n = nodes.items.get(item);
    if (!present.has(String(item)) || !n) return { item, exists: false, progress: {}, marker: null };
    const { progress, marker, history } = n;
    const itemProblems: string[] = [];
    const snapshot: ItemSnapshot = {
      item,
      exists: progress !== null,
      progress: { ...take(readProgress(progress?.data, paths.item(name, item)), {}, itemProblems), recent: take(readHistory(history?.data, paths.history(name, item)), [], itemProblems) },
      marker: marker ? { record: take(readMarker(marker.data, paths.running(name, item)), undefined, itemProblems), ctime: marker.stat.ctime, token: marker.stat.czxid?.toString() ?? null } : null,
    };
    if (itemProblems.length > 0) snapshot.problems = itemProblems;
    return snapshot;
  });
  const job: JobSnapshot = {
    name,
    definition,
    version: found.stat.version,
    ...(definition ? {} : { problem: read.ok ? 'no definition stored (the node has no data)' : `stored definition does not decode: ${read.error.reason}; stored: ${truncateText(found.data.toString('utf8'), 60)}` }),
    assignment: record,
    control: take(readControl(nodes.control?.data, paths.control(name)), readControlFallback(), problems), // empty when the node does not exist
    items,
    codeMismatch: members.filter((m) => m.info.codeMismatch?.includes(name)).map((m) => ({ worker: m.info.id, member: m.name })),
  };
  if (problems.length > 0) job.problems = problems;
  return job;
}

function readControlFallback(): JobControl {
  return { disabled: false, disabledItems: [], pins: {} };
}

function truncateText(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat === '' ? '(empty)' : flat;
}
