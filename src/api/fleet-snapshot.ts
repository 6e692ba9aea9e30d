import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { JobDefinition } from '../config/job-definition.js';
import type { Member } from '../membership/member-info.js';
import { readMemberNodes } from '../membership/read-members.js';
import { readJob } from '../model/job-record.js';
import type { AssignmentRecord } from '../model/assignment-record.js';
import { assignmentGroupOf, assignmentNodeOf, readJobAssignment } from '../model/assignment-group.js';
import { readControl, type JobControl } from '../model/job-control.js';
import { readHistory, readProgress, type ProgressRecord } from '../model/progress-record.js';
import { itemLedgerView, ledgerSuccessOf, type ItemLedgerView } from '../model/ledger-view.js';
import { withLatestOutcome } from '../model/latest-outcome.js';
import { listLedgers, type LedgerListing } from '../membership/list-ledgers.js';
import { readJobLedgers, type JobLedgers } from '../membership/read-job-ledgers.js';
import { valueOr, type Decoded } from '../model/decoded.js';
import { RequestError } from '../errors/request-error.js';
import { mapLimit } from './zk-read.js';
import { childrenIfExists } from '../zk/children-if-exists.js';

/**
 * An item's run in flight, as the members' ledgers say (run protocol v2: a current entry's `f`
 * bit, see `model/ledger-view.ts`).
 */
export interface RunSnapshot {
  member: string;
  /** Whether its member lives; a gone member's run was cut short, and the item's next owner runs its fire again. */
  live: boolean;
  /** Its member's worker id: as the live member publishes it, else as the item record names the run; null when unknown. */
  worker: string | null;
  fireTime: string;
  /** The attempt it began with. */
  attempt: number;
  /** When it began, as the item record says; null when the record does not name this run. */
  startedAt: string | null;
  /** Its fencing token: the zxid of the multi that began it (the one its handler got). */
  token: string;
}

export interface ItemSnapshot {
  item: number;
  /** Whether the item's progress node exists. */
  exists: boolean;
  /** `{}` when the record does not decode (see `problems`). */
  progress: ProgressRecord;
  /** Its run in flight (a live member's before a gone one's); null: none. */
  run: RunSnapshot | null;
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
  /** Live member nodes whose record cannot be read, with what is wrong with each (absent: none read). */
  unreadableMembers?: Array<{ name: string; problem: string }>;
  /** Worker ids with a drain request. */
  drains: string[];
  jobs: JobSnapshot[];
}

/**
 * Reads the fleet under a namespace: members, drain requests and, per job (all, or `only`), the
 * definition, assignment, control and every item's progress and its run in flight (from the members' ledgers).
 * @throws RequestError NOT_FOUND when the namespace or a job named in `only` does not exist.
 */
export async function readFleetSnapshot(zk: ZkClient, paths: ZkPaths, only?: readonly string[]): Promise<FleetSnapshot> {
  const readAt = Date.now();
  if ((await zk.exists(paths.root)) === null) {
    throw new RequestError('NOT_FOUND', `namespace ${paths.root} does not exist on ${zk.connectString}: no worker has joined it and no job was applied (check --namespace / ZKSHARD_NAMESPACE)`);
  }
  const [{ members, unreadable }, drains, names, ledgers] = await Promise.all([
    readMemberNodes(zk, paths),
    childrenIfExists(zk, paths.drains),
    only ? Promise.resolve([...only]) : childrenIfExists(zk, paths.jobs),
    listLedgers(zk, paths),
  ]);
  // Each assignment node once, for all of its jobs.
  const groups = new Map<number, Promise<{ data: Buffer } | null>>();
  const assignmentNode = (name: string) => {
    const group = assignmentGroupOf(name);
    if (!groups.has(group)) groups.set(group, zk.getDataIfExists(paths.assignmentGroup(group)));
    return groups.get(group)!;
  };
  const jobs = await mapLimit([...names].sort(), (name) => readJobSnapshot(zk, paths, name, only !== undefined, members, ledgers, assignmentNode), 8);
  return {
    namespace: paths.root.slice(1),
    readAt,
    members,
    unreadableMembers: unreadable.map((u) => ({ name: u.name, problem: u.error.message })),
    drains: drains.sort(),
    jobs: jobs.filter((j): j is JobSnapshot => j !== undefined),
  };
}

/** The value of a checked read; its problem, if any, goes to `problems`. */
function take<T, F>(d: Decoded<T>, fallback: F, problems: string[]): T | F {
  if (!d.ok) problems.push(`${d.error.path}: ${d.error.reason}`);
  return valueOr(d, fallback);
}

async function readJobSnapshot(
  zk: ZkClient,
  paths: ZkPaths,
  name: string,
  required: boolean,
  members: readonly Member[],
  listing: LedgerListing,
  assignmentNode: (job: string) => Promise<{ data: Buffer } | null>,
): Promise<JobSnapshot | undefined> {
  // The ledgers first: a run begun after they were read is not seen, but one seen is the record's.
  const ledgers = await readJobLedgers(zk, paths, name, listing);
  const [found, assignment, control, itemNames] = await Promise.all([
    zk.getDataIfExists(paths.job(name)),
    assignmentNode(name),
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
    const [progress, history] = await Promise.all([zk.getDataIfExists(paths.item(name, item)), zk.getDataIfExists(paths.history(name, item))]);
    nodes.set(item, { progress, history });
  });
  return buildJobSnapshot(paths, name, { definition: found, assignment, control, itemNames, items: nodes, ledgers }, members);
}

/** A znode as read: its data and stat. */
interface NodeRead {
  data: Buffer;
  stat: { ctime: number; version: number; mzxid?: bigint };
}

/** The nodes of one item as read (null: the node does not exist). */
export interface ItemNodes {
  progress: NodeRead | null;
  history: { data: Buffer } | null;
  /** Where the progress record's read came in the order of the ledger parts' (`LedgerPartRead.readSeq`). */
  readSeq?: number;
}

/** The nodes of one job as read (by {@link readFleetSnapshot}, or kept by the console's watches). */
export interface JobNodes {
  definition: NodeRead;
  /** The assignment node the job's assignment is in (`model/assignment-group.ts`). */
  assignment: { data: Buffer } | null;
  control: { data: Buffer } | null;
  /** Child names of `items` (an empty list when the node is missing). */
  itemNames: readonly string[];
  /** Per item number, the nodes read; an item absent from the map has no progress node. */
  items: ReadonlyMap<number, ItemNodes>;
  /** The job's part of every member's ledger, read before the items. */
  ledgers: JobLedgers;
}

/** The item numbers of a job: 0..shards-1 and any extra numbered item node, ascending. */
export function itemNumbers(definitionData: Buffer, paths: ZkPaths, name: string, assignmentData: Buffer | undefined, itemNames: readonly string[]): number[] {
  const read = readJob(definitionData, paths.job(name), name);
  const shards = (read.ok ? read.value?.shards : undefined) ?? valueOr(readJobAssignment(assignmentData, assignmentNodeOf(paths, name), name), undefined)?.shards ?? 0;
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
  const record = take(readJobAssignment(nodes.assignment?.data, assignmentNodeOf(paths, name), name), undefined, problems);
  const present = new Set(nodes.itemNames);
  const items = itemNumbers(found.data, paths, name, nodes.assignment?.data, nodes.itemNames).map((item): ItemSnapshot => {
    const n = nodes.items.get(item);
    if (!present.has(String(item)) || !n) return { item, exists: false, progress: {}, run: null };
    const { progress, history } = n;
    const itemProblems: string[] = [];
    const record: ProgressRecord = take(readProgress(progress?.data, paths.item(name, item)), {}, itemProblems);
    const readable = itemProblems.length === 0;
    const view = progress?.stat.mzxid === undefined ? undefined : itemLedgerView(nodes.ledgers.parts, name, item, { mzxid: progress.stat.mzxid, by: record.by });
    const told = withLatestOutcome({ ...withClaim(record, view, progress?.stat.ctime), recent: take(readHistory(history?.data, paths.history(name, item)), [], itemProblems) });
    const snapshot: ItemSnapshot = {
      item,
      exists: progress !== null,
      progress: readable && view ? withLedgerSuccess(told, view, progress?.stat.ctime, n.readSeq, members) : told,
      run: view ? runOf(view, record, members) : null,
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
  for (const { error } of nodes.ledgers.unreadable) problems.push(`${error.path}: ${error.reason}`);
  if (problems.length > 0) job.problems = problems;
  return job;
}

/**
 * The record with the item's frontier as the current ledger entries claim it, when later (run
 * protocol v2, step 4c: the steady begins write the claim, not the record), never a claim from
 * before the item was made (`ctime`: an earlier item of its name).
 */
function withClaim(record: ProgressRecord, view: ItemLedgerView | undefined, ctime: number | undefined): ProgressRecord {
  const claim = view?.claimMs;
  if (claim === undefined || (ctime !== undefined && claim < ctime) || (record.lastScheduled !== undefined && claim <= Date.parse(record.lastScheduled))) return record;
  return { ...record, lastScheduled: new Date(claim).toISOString() };
}

/**
 * The record with the end of the run a live member's ledger alone recorded (`ledgerSuccessOf`: a
 * success), when later than what the record and the history say: a steady success writes no
 * record (run protocol v2, step 4c), and its item's history has it only within
 * HISTORY_WRITE_INTERVAL_MS. As the history will say it: attempt 1, its member's worker; its
 * duration is the history's to say.
 */
function withLedgerSuccess(record: ProgressRecord, view: ItemLedgerView, ctime: number | undefined, readSeq: number | undefined, members: readonly Member[]): ProgressRecord {
  const success = ledgerSuccessOf(view, record, ctime, readSeq);
  const worker = success && members.find((m) => m.name === success.member)?.info.id;
  if (!success || worker === undefined) return record;
  const out: ProgressRecord = { ...record, lastCompleted: new Date(success.fireMs).toISOString(), outcome: 'success', attempt: 1, worker };
  delete out.durationMs;
  return out;
}

/** The item's run in flight as the current ledger entries say (a live member's first). */
function runOf(view: ItemLedgerView, record: ProgressRecord, members: readonly Member[]): RunSnapshot | null {
  const f = view.inFlight.find((r) => r.live) ?? view.inFlight[0];
  if (!f) return null;
  const fireTime = new Date(f.fireMs).toISOString();
  const named = record.inFlight?.member === f.member && record.inFlight.fireTime === fireTime ? record.inFlight : undefined;
  const worker = (f.live ? members.find((m) => m.name === f.member)?.info.id : undefined) ?? named?.worker ?? null;
  return { member: f.member, live: f.live, worker, fireTime, attempt: f.attempt, startedAt: named?.startedAt ?? null, token: f.token.toString() };
}

function readControlFallback(): JobControl {
  return { disabled: false, disabledItems: [], pins: {} };
}

function truncateText(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat === '' ? '(empty)' : flat;
}
