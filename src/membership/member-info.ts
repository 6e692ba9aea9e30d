import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH } from '../config/job-definition.js';
import { checkedJson } from '../model/json-codec.js';
import { malformed, valueOr, type Decoded } from '../model/decoded.js';
import { MAX_ID_LENGTH, MAX_SHORT_TEXT, array, boolean, entries, integer, number, object, oneOf, string } from '../model/record-fields.js';

/**
 * The run protocol this code speaks: how runs are begun, recorded and taken over (the members'
 * ledgers, their form, the fences). Every member node announces it; workers of different run
 * protocols must not share a fleet (`membership/protocol-check.ts`). It changes only when the
 * records change in a way an older reader cannot follow.
 *
 * 1: run protocol v2 with positional ledger parts (docs/design/run-protocol-v2.md, step 4d), the
 * first one announced. A member node without the field is from before announcements.
 * 2: assignments grouped into `ASSIGNMENT_GROUPS` nodes (`model/assignment-group.ts`) instead of
 * one node per job.
 */
export const RUN_PROTOCOL = 2;

/** What a worker publishes in its membership node (JSON). */
export interface MemberInfo {
  /** The configured worker id (several members may share one across restarts). */
  id: string;
  host: string;
  pid: number;
  /** Names of the jobs this worker can run. */
  jobs: string[];
  labels: Record<string, string>;
  /** Relative weight for balancing, > 0. */
  capacity: number;
  /** `active` takes items; `draining` is leaving and gets none. */
  state: 'active' | 'draining';
  /** ISO time the member registered. */
  startedAt: string;
  /** zkshard version of the worker. */
  version: string;
  /** The run protocol the worker speaks ({@link RUN_PROTOCOL}); absent: a worker from before announcements. */
  protocol?: number;
  /**
   * The worker's last clock check against ZooKeeper's clock. A worker whose clock is off by more
   * than its `maxClockSkewMs` fires nothing and the leader gives it no items.
   */
  clock?: { skewMs: number; maxSkewMs: number; ok: boolean; checkedAt: string };
  /** The ZooKeeper user the worker authenticates as (`anonymous` without credentials). `zkctl acl apply` checks it. */
  identity?: string;
  /**
   * Jobs whose definition in ZooKeeper names another handler or command than this worker's file
   * (it runs its own; `zkctl job` and `zkctl doctor` show it).
   */
  codeMismatch?: string[];
}

/** A live member: its node name (the member id used in assignments) and what it published. */
export interface Member {
  /** Node name under `/workers`, e.g. `m-3f9a1c2e-0000000007`: unique per session. */
  name: string;
  /** Sequence number: the election order. */
  sequence: number;
  info: MemberInfo;
}

export function encodeMemberInfo(info: MemberInfo): Buffer {
  return Buffer.from(JSON.stringify(info));
}

/** Most jobs one member may declare, labels it may carry. */
const MAX_MEMBER_JOBS = 100_000;
const MAX_LABELS = 100;
const MAX_LABEL_LENGTH = 1000;

/**
 * Reads a membership node: id, jobs (job names), labels, capacity and the rest checked and
 * bounded. A member node without data is malformed (a member always publishes its record).
 */
export function readMemberInfo(data: Buffer | undefined, path: string): Decoded<MemberInfo> {
  const d = checkedJson(data, path, (raw): MemberInfo => {
    const v = object(raw, 'member');
    const jobName = (x: unknown, key: string) => string(x, key, MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN);
    const info: MemberInfo = {
      id: string(v.id, 'id', MAX_ID_LENGTH),
      host: v.host === undefined ? '' : string(v.host, 'host', 1000),
      pid: v.pid === undefined ? 0 : integer(v.pid, 'pid', 0, Number.MAX_SAFE_INTEGER),
      jobs: array(v.jobs, 'jobs', MAX_MEMBER_JOBS).map((j, i) => jobName(j, `jobs[${i}]`)),
      labels: v.labels === undefined ? {} : entries(v.labels, 'labels', MAX_LABELS, (k, key) => void string(k, key, MAX_LABEL_LENGTH), (x, key) => string(x, key, MAX_LABEL_LENGTH)),
      capacity: v.capacity === undefined ? 1 : number(v.capacity, 'capacity', Number.MIN_VALUE, Number.MAX_VALUE),
      state: v.state === undefined ? 'active' : oneOf(v.state, 'state', ['active', 'draining'] as const),
      startedAt: v.startedAt === undefined ? '' : string(v.startedAt, 'startedAt', MAX_SHORT_TEXT),
      version: v.version === undefined ? '' : string(v.version, 'version', MAX_SHORT_TEXT),
    };
    if (v.clock !== undefined) {
      const c = object(v.clock, 'clock');
      info.clock = {
        skewMs: number(c.skewMs, 'clock.skewMs', -Number.MAX_VALUE, Number.MAX_VALUE), maxSkewMs: number(c.maxSkewMs, 'clock.maxSkewMs', 0, Number.MAX_VALUE),
        ok: boolean(c.ok, 'clock.ok'), checkedAt: string(c.checkedAt, 'clock.checkedAt', MAX_SHORT_TEXT),
      };
    }
    if (v.protocol !== undefined) info.protocol = integer(v.protocol, 'protocol', 1, 1_000_000);
    if (v.identity !== undefined) info.identity = string(v.identity, 'identity', MAX_ID_LENGTH);
    if (v.codeMismatch !== undefined) info.codeMismatch = array(v.codeMismatch, 'codeMismatch', MAX_MEMBER_JOBS).map((j, i) => jobName(j, `codeMismatch[${i}]`));
    return info;
  });
  if (!d.ok) return d;
  return d.value === undefined ? malformed(path, 'no data (a member publishes its record)') : { ok: true, value: d.value };
}

/** Decodes a membership node's data; undefined when it is not a valid record. */
export function decodeMemberInfo(data: Buffer): MemberInfo | undefined {
  return valueOr(readMemberInfo(data, '/workers/?'), undefined);
}
