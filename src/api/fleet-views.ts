import type { JobDefinition, ShardingStrategyName } from '../config/job-definition.js';
import type { Member } from '../membership/member-info.js';
import type { RecentOutcome, RunOutcome } from '../model/progress-record.js';
import { CronSchedule } from '../cron/cron-schedule.js';
import { RequestError } from '../errors/request-error.js';
import { formatItemList } from './item-list.js';
import type { FleetSnapshot, ItemSnapshot, JobSnapshot } from './fleet-snapshot.js';
import { DEFAULTS } from '../defaults.js';

/**
 * The operator views (`zkctl status|workers|jobs|job`, the future console): plain JSON-safe
 * objects computed from one {@link FleetSnapshot}, with no I/O. Their shapes are documented in
 * docs/ZKCTL.md and are a public contract: add fields, never rename or remove them.
 */

/** A run in flight older than this is reported as stale (warning kind `stale-marker`, a name kept from when runs held markers). */
export const STALE_MARKER_MS = 24 * 3_600_000;
/** Clock skew above this is reported. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = DEFAULTS.worker.maxClockSkewMs;

export type WorkerState = 'active' | 'draining';

/** One live member (`zkctl workers`). */
export interface WorkerView {
  /** Worker id (from its config or `--id`). */
  id: string;
  /** Member node name under `/workers`, unique per session. */
  member: string;
  /** Election sequence; the lowest leads. */
  sequence: number;
  host: string;
  pid: number;
  leader: boolean;
  /** `draining` when the worker announced it (shutdown) or an operator asked for it (`zkctl drain`). */
  state: WorkerState;
  /** An operator drain request exists for this worker id. */
  drainRequested: boolean;
  /** Items assigned to this member, per job (every job it declares, `[]` when none). */
  items: Record<string, number[]>;
  /** Items this member is running right now, per job (only jobs with running items). */
  running: Record<string, number[]>;
  /** Jobs the worker can run. */
  jobs: string[];
  labels: Record<string, string>;
  capacity: number;
  /** ISO time the member joined. */
  startedAt: string;
  /** Milliseconds since `startedAt` (this machine's clock), or null when unknown. */
  uptimeMs: number | null;
  /** zkshard version of the worker. */
  version: string;
}

/** `enabled`; `disabled` (the whole job); `partial` (some items disabled); `invalid` (definition does not decode). */
export type JobState = 'enabled' | 'disabled' | 'partial' | 'invalid';

/** One job in `zkctl jobs` and `zkctl status`. */
export interface JobSummary {
  name: string;
  cron: string | null;
  timeZone: string | null;
  shards: number;
  strategy: ShardingStrategyName | null;
  state: JobState;
  disabledItems: number[];
  /** Generation of the leader's assignment, null before the first one. */
  generation: number | null;
  /** Number of items owned by a live member. */
  owned: number;
  /** Items with no owner in the assignment (or no assignment yet). */
  unowned: number[];
  /** Items whose owner in the assignment is no longer a live member. */
  ownerGone: number[];
  /** Items running now. */
  running: number[];
  /** Worker ids owning at least one item. */
  workers: string[];
  /** Latest fire taken on by any item (ISO), or null. */
  lastFire: string | null;
  /** Next fire time of the schedule (ISO), or null when the job does not fire (disabled, invalid). */
  nextFire: string | null;
  /** How many items had each outcome as their last (items that never finished a run are not counted). */
  lastOutcomes: Partial<Record<RunOutcome, number>>;
}

/** One item in `zkctl job <name>`. */
export interface ItemView {
  item: number;
  /** The item parameter, or null. */
  parameter: string | null;
  /** Worker id of the owner in the assignment, or null. */
  owner: string | null;
  /** Member name of the owner, or null. */
  ownerMember: string | null;
  /** Whether the owner is a live member. */
  ownerLive: boolean;
  running: boolean;
  /** Worker id running it now, or null. */
  runningOn: string | null;
  /** ISO fire time of the run in progress, or null. */
  runningFire: string | null;
  /**
   * Fencing token of the run in progress (`ctx.fencingToken`: the zxid of the transaction that
   * began it), or null when none runs. ZooKeeper does not keep a finished run's token (the run
   * history in PostgreSQL does).
   */
  fencingToken: string | null;
  disabled: boolean;
  /** Worker id it is pinned to (`zkctl move`), or null. */
  pinnedTo: string | null;
  /** Latest fire taken on (ISO), or null. */
  lastFire: string | null;
  /** Latest fire that finished (ISO), or null. */
  lastCompleted: string | null;
  lastOutcome: RunOutcome | null;
  /** Attempts used by the latest finished fire, or null. */
  lastAttempt: number | null;
  lastDurationMs: number | null;
  /** Next fire of this item (ISO), or null when it will not fire: disabled, no live owner, invalid schedule. */
  nextFire: string | null;
  /** Run history, newest first (bounded, see `RECENT_OUTCOMES`). */
  history: RecentOutcome[];
}

/** `zkctl job <name>`. */
export interface JobView {
  name: string;
  cron: string;
  timeZone: string;
  shards: number;
  strategy: ShardingStrategyName;
  state: JobState;
  /** Item → worker id pins. */
  pins: Record<string, string>;
  generation: number | null;
  /** Data version of the stored definition (what `apply` checks). */
  version: number;
  /**
   * The definition as stored. Its handler/command is informational: every worker runs the
   * handler or command of its own file (see `codeMismatch`).
   */
  definition: JobDefinition;
  /** Live workers whose own file names another handler or command than the stored one (they run theirs). */
  codeMismatch: Array<{ worker: string; member: string }>;
  /** Records of the job or its items that do not decode (`<path>: <what is wrong>`); workers leave them alone. */
  problems: string[];
  items: ItemView[];
}

export type WarningKind = 'no-leader' | 'owner-gone' | 'stale-marker' | 'clock-skew' | 'bad-definition' | 'code-mismatch' | 'malformed-record';

export interface FleetWarning {
  kind: WarningKind;
  message: string;
  job?: string;
  item?: number;
  worker?: string;
  member?: string;
}

/** This machine's clock against ZooKeeper's. */
export interface ClockSkew {
  /** Local clock minus ZooKeeper's clock (ms): positive when this machine is ahead. */
  skewMs: number;
  /** Half the round trip of the measurement (ms): the true skew is within ± this. */
  uncertaintyMs: number;
}

/** `zkctl status`. */
export interface FleetStatus {
  namespace: string;
  zookeeper: string;
  /** ISO time of the read. */
  readAt: string;
  leader: { id: string; member: string } | null;
  workers: { total: number; active: number; draining: number };
  jobs: JobSummary[];
  /** Items without an owner, per job (jobs with none are left out). */
  unowned: Array<{ job: string; items: number[] }>;
  /** Null when it could not be measured. */
  clock: ClockSkew | null;
  warnings: FleetWarning[];
}

export interface ViewOptions {
  /** @default STALE_MARKER_MS */
  staleMarkerMs?: number;
  /** @default DEFAULT_MAX_CLOCK_SKEW_MS */
  maxClockSkewMs?: number;
}

// ---- derivations ---------------------------------------------------------------------------------

const iso = (ms: number): string => new Date(ms).toISOString();

function liveMembers(s: FleetSnapshot): Map<string, Member> {
  return new Map(s.members.map((m) => [m.name, m]));
}

/** A parsed schedule, with its last answer: the next fire after any time in [from, next) is next. */
interface ScheduleEntry {
  schedule: CronSchedule | null;
  from: number;
  next: number;
}

/** Parsed schedules by cron and time zone (a view of 1,000 jobs parses each once, not per read). */
const schedules = new Map<string, ScheduleEntry>();
const MAX_SCHEDULES = 10_000;

function scheduleEntry(cron: string, timeZone: string): ScheduleEntry {
  const key = `${cron}\u0000${timeZone}`;
  let e = schedules.get(key);
  if (e === undefined) {
    let schedule: CronSchedule | null;
    try {
      schedule = CronSchedule.parse(cron, timeZone);
    } catch {
      schedule = null;
    }
    if (schedules.size >= MAX_SCHEDULES) schedules.clear();
    e = { schedule, from: Number.NaN, next: Number.NaN };
    schedules.set(key, e);
  }
  return e;
}

function scheduleOf(cron: string, timeZone: string): CronSchedule | null {
  return scheduleEntry(cron, timeZone).schedule;
}

function nextFireOf(def: JobDefinition | undefined, after: number): string | null {
  if (!def) return null;
  const e = scheduleEntry(def.cron, def.timeZone);
  if (!e.schedule) return null;
  if (!(after >= e.from && after < e.next)) {
    try {
      e.next = e.schedule.next(new Date(after)).getTime();
      e.from = after;
    } catch {
      return null;
    }
  }
  return iso(e.next);
}

function ownerOf(job: JobSnapshot, item: number, live: Map<string, Member>): { member: string | null; id: string | null; live: boolean } {
  const member = job.assignment?.owners[item] ?? null;
  if (member === null) return { member: null, id: null, live: false };
  const m = live.get(member);
  return { member, id: m?.info.id ?? job.assignment?.workers[member] ?? null, live: m !== undefined };
}

function itemDisabled(job: JobSnapshot, item: number): boolean {
  return job.control.disabled || job.control.disabledItems.includes(item);
}

function jobState(job: JobSnapshot): JobState {
  if (!job.definition) return 'invalid';
  if (job.control.disabled) return 'disabled';
  return job.control.disabledItems.some((i) => i < job.definition!.shards) ? 'partial' : 'enabled';
}

/** Items of the job as defined (0..shards-1), or every item found when the definition is unusable. */
export function definedItems(job: JobSnapshot): ItemSnapshot[] {
  const shards = job.definition?.shards;
  return shards === undefined ? job.items : job.items.filter((i) => i.item < shards);
}

/**
 * Whether the item's run in flight should not be going on: its member is gone (the run was cut
 * short; the item's next owner runs its fire again), or it began more than `staleMs` ago.
 */
export function runStaleness(item: ItemSnapshot, s: FleetSnapshot, staleMs = STALE_MARKER_MS): string | undefined {
  const r = item.run;
  if (!r) return undefined;
  if (!r.live) return `its member ${r.member}${r.worker ? ` (${r.worker})` : ''} is not live: the item's next owner runs fire ${r.fireTime} again`;
  const since = Date.parse(r.startedAt ?? r.fireTime);
  const age = s.readAt - since;
  if (age > staleMs) return `it is ${Math.round(age / 3_600_000)} h old (since ${iso(since)})`;
  return undefined;
}

export function workersView(s: FleetSnapshot): WorkerView[] {
  const drains = new Set(s.drains);
  return s.members.map((m, index) => {
    const items: Record<string, number[]> = {};
    for (const job of [...m.info.jobs].sort()) items[job] = [];
    const running: Record<string, number[]> = {};
    for (const job of s.jobs) {
      job.assignment?.owners.forEach((owner, item) => {
        if (owner === m.name && (job.definition === undefined || item < job.definition.shards)) (items[job.name] ??= []).push(item);
      });
      for (const it of job.items) if (it.run?.live && it.run.member === m.name) (running[job.name] ??= []).push(it.item);
    }
    const started = Date.parse(m.info.startedAt);
    return {
      id: m.info.id,
      member: m.name,
      sequence: m.sequence,
      host: m.info.host,
      pid: m.info.pid,
      leader: index === 0,
      state: m.info.state === 'draining' || drains.has(m.info.id) ? 'draining' : 'active',
      drainRequested: drains.has(m.info.id),
      items: sortKeys(items),
      running: sortKeys(running),
      jobs: [...m.info.jobs].sort(),
      labels: m.info.labels,
      capacity: m.info.capacity,
      startedAt: m.info.startedAt,
      uptimeMs: Number.isFinite(started) ? Math.max(0, s.readAt - started) : null,
      version: m.info.version,
    };
  });
}

/**
 * A job's summary but its next fire, by the job's snapshot and the members it was computed with:
 * the console reuses a job's snapshot until its nodes change, so its summary is computed once.
 */
const summaries = new WeakMap<JobSnapshot, { members: readonly Member[]; summary: Omit<JobSummary, 'nextFire'> }>();

export function jobSummaries(s: FleetSnapshot): JobSummary[] {
  let live: Map<string, Member> | undefined;
  return s.jobs.map((job) => {
    let known = summaries.get(job);
    if (!known || known.members !== s.members) {
      known = { members: s.members, summary: summaryOf(job, (live ??= liveMembers(s))) };
      summaries.set(job, known);
    }
    const { lastOutcomes, ...rest } = known.summary;
    return { ...rest, nextFire: rest.state === 'disabled' ? null : nextFireOf(job.definition, s.readAt), lastOutcomes };
  });
}

function summaryOf(job: JobSnapshot, live: Map<string, Member>): Omit<JobSummary, 'nextFire'> {
  const items = definedItems(job);
  const unowned: number[] = [];
  const ownerGone: number[] = [];
  const workers = new Set<string>();
  let owned = 0;
  let lastFire: string | null = null;
  const lastOutcomes: Partial<Record<RunOutcome, number>> = {};
  for (const it of items) {
    const outcome = it.progress.outcome;
    if (outcome) lastOutcomes[outcome] = (lastOutcomes[outcome] ?? 0) + 1;
    const o = ownerOf(job, it.item, live);
    if (o.member === null) unowned.push(it.item);
    else if (!o.live) ownerGone.push(it.item);
    else {
      owned++;
      if (o.id) workers.add(o.id);
    }
    const last = it.progress.lastScheduled;
    if (last && (lastFire === null || Date.parse(last) > Date.parse(lastFire))) lastFire = last;
  }
  const state = jobState(job);
  return {
    name: job.name,
    cron: job.definition?.cron ?? null,
    timeZone: job.definition?.timeZone ?? null,
    shards: job.definition?.shards ?? items.length,
    strategy: job.definition?.strategy ?? null,
    state,
    disabledItems: job.control.disabled ? items.map((i) => i.item) : [...job.control.disabledItems].sort((a, b) => a - b),
    generation: job.assignment?.generation ?? null,
    owned,
    unowned,
    ownerGone,
    running: items.filter((i) => i.run?.live).map((i) => i.item),
    workers: [...workers].sort(),
    lastFire,
    lastOutcomes,
  };
}

/** @throws RequestError NOT_FOUND when the snapshot has no such job; REQUEST_INVALID when its definition does not decode. */
export function jobView(s: FleetSnapshot, name: string): JobView {
  const job = s.jobs.find((j) => j.name === name);
  if (!job) throw new RequestError('NOT_FOUND', `no job named ${JSON.stringify(name)} in namespace /${s.namespace}`);
  const def = job.definition;
  if (!def) throw new RequestError('REQUEST_INVALID', `job ${name}: ${job.problem ?? 'definition does not decode'}; fix it with zkctl apply`);
  const live = liveMembers(s);
  const next = nextFireOf(def, s.readAt);
  const items = definedItems(job).map((it): ItemView => {
    const o = ownerOf(job, it.item, live);
    const disabled = itemDisabled(job, it.item);
    const p = it.progress;
    return {
      item: it.item,
      parameter: def.itemParameters[String(it.item)] ?? null,
      owner: o.id,
      ownerMember: o.member,
      ownerLive: o.live,
      running: it.run?.live ?? false,
      runningOn: (it.run?.live && it.run.worker) || null,
      runningFire: (it.run?.live && it.run.fireTime) || null,
      fencingToken: (it.run?.live && it.run.token) || null,
      disabled,
      pinnedTo: job.control.pins[String(it.item)] ?? null,
      lastFire: p.lastScheduled ?? null,
      lastCompleted: p.lastCompleted ?? null,
      lastOutcome: p.outcome ?? null,
      lastAttempt: p.attempt ?? null,
      lastDurationMs: p.durationMs ?? null,
      nextFire: disabled || !o.live ? null : next,
      history: p.recent ?? [],
    };
  });
  return {
    name,
    cron: def.cron,
    timeZone: def.timeZone,
    shards: def.shards,
    strategy: def.strategy,
    state: jobState(job),
    pins: job.control.pins,
    generation: job.assignment?.generation ?? null,
    version: job.version,
    definition: def,
    codeMismatch: job.codeMismatch ?? [],
    problems: recordProblems(job),
    items,
  };
}

/** Every record of a job (assignment, control, items) that does not decode, as `<path>: <what is wrong>`. */
export function recordProblems(job: JobSnapshot): string[] {
  return [...(job.problems ?? []), ...job.items.flatMap((it) => it.problems ?? [])];
}

/** Warnings about the fleet: no leader, owners gone, stale runs in flight, bad definitions, clock skew. */
export function fleetWarnings(s: FleetSnapshot, clock: ClockSkew | null, options: ViewOptions = {}): FleetWarning[] {
  const warnings: FleetWarning[] = [];
  const live = liveMembers(s);
  if (s.members.length === 0) warnings.push({ kind: 'no-leader', message: 'no live worker: there is no leader and nothing runs' });
  for (const job of s.jobs) {
    if (!job.definition) warnings.push({ kind: 'bad-definition', job: job.name, message: `job ${job.name}: ${job.problem ?? 'definition does not decode'}` });
    else if (scheduleOf(job.definition.cron, job.definition.timeZone) === null) {
      try {
        CronSchedule.parse(job.definition.cron, job.definition.timeZone);
      } catch (err) {
        warnings.push({ kind: 'bad-definition', job: job.name, message: `job ${job.name}: ${(err as Error).message}` });
      }
    }
    const mismatch = job.codeMismatch ?? [];
    if (mismatch.length > 0) {
      warnings.push({
        kind: 'code-mismatch', job: job.name,
        message: `job ${job.name}: the stored handler/command differs from the own file of ${mismatch.map((m) => m.worker).join(', ')} (${mismatch.length === 1 ? 'it runs its' : 'they run their'} own)`,
      });
    }
    for (const problem of recordProblems(job)) warnings.push({ kind: 'malformed-record', job: job.name, message: `job ${job.name}: malformed record ${problem}` });
    const gone = new Map<string, number[]>();
    for (const it of definedItems(job)) {
      const o = ownerOf(job, it.item, live);
      if (o.member !== null && !o.live) gone.set(o.member, [...(gone.get(o.member) ?? []), it.item]);
    }
    for (const [member, items] of gone) {
      const worker = job.assignment?.workers[member];
      warnings.push({
        kind: 'owner-gone', job: job.name, member, ...(worker ? { worker } : {}),
        message: `job ${job.name} items ${formatItemList(items)}: owner ${worker ?? '?'} (${member}) is not a live member`,
      });
    }
    for (const it of job.items) {
      const why = runStaleness(it, s, options.staleMarkerMs);
      if (why) {
        const worker = it.run?.worker;
        warnings.push({ kind: 'stale-marker', job: job.name, item: it.item, ...(worker ? { worker } : {}), message: `job ${job.name} item ${it.item}: stale run in flight: ${why}` });
      }
    }
  }
  const max = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (clock && Math.abs(clock.skewMs) > max) {
    warnings.push({ kind: 'clock-skew', message: `this machine's clock is ${Math.abs(clock.skewMs)} ms ${clock.skewMs > 0 ? 'ahead of' : 'behind'} ZooKeeper's (limit ${max} ms)` });
  }
  return warnings;
}

export function statusView(s: FleetSnapshot, zookeeper: string, clock: ClockSkew | null, options: ViewOptions = {}): FleetStatus {
  const workers = workersView(s);
  const leader = workers[0];
  const jobs = jobSummaries(s);
  return {
    namespace: s.namespace,
    zookeeper,
    readAt: iso(s.readAt),
    leader: leader ? { id: leader.id, member: leader.member } : null,
    workers: {
      total: workers.length,
      active: workers.filter((w) => w.state === 'active').length,
      draining: workers.filter((w) => w.state === 'draining').length,
    },
    jobs,
    unowned: jobs.filter((j) => j.unowned.length > 0).map((j) => ({ job: j.name, items: j.unowned })),
    clock,
    warnings: fleetWarnings(s, clock, options),
  };
}

function sortKeys<V>(o: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
