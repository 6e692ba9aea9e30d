import { setTimeout as sleep } from 'node:timers/promises';
import { RequestError } from '../errors/request-error.js';
import type { Member } from '../membership/member-info.js';
import type { AssignmentRecord } from '../model/assignment-record.js';
import type { JobControl } from '../model/job-control.js';
import { formatItemList } from './item-list.js';
import type { FleetReader } from './fleet-reader.js';
import type { FleetSnapshot, JobSnapshot } from './fleet-snapshot.js';
import { diffDefinitions } from './job-admin.js';

export type FleetEventKind =
  | 'worker' | 'worker-joined' | 'worker-left' | 'worker-state' | 'leader'
  | 'job' | 'job-created' | 'job-updated' | 'job-removed' | 'job-control' | 'assignment' | 'run';

/** One line of `zkctl watch` (non-TTY), one JSON object per line with `--json`. */
export interface FleetEvent {
  /** ISO time the change was seen. */
  time: string;
  /** `worker`, `job` (and `leader`, `assignment`, `job-control`) with `initial: true` describe the state at start. */
  kind: FleetEventKind;
  message: string;
  initial?: boolean;
  job?: string;
  worker?: string;
  member?: string;
  item?: number;
  generation?: number;
}

export interface DiffOptions {
  /** Also report every finished run (one line per item and fire). @default false */
  runs?: boolean;
}

/** The changes from one snapshot to the next (`prev` undefined: the state at start). Pure. */
export function diffSnapshots(prev: FleetSnapshot | undefined, next: FleetSnapshot, options: DiffOptions = {}): FleetEvent[] {
  const time = new Date(next.readAt).toISOString();
  const initial = prev === undefined;
  const events: FleetEvent[] = [];
  const push = (e: Omit<FleetEvent, 'time'>) => events.push({ time, ...(initial ? { initial: true } : {}), ...e });
  const drainsBefore = new Set(prev?.drains ?? []);
  const drainsNow = new Set(next.drains);
  const stateOf = (m: Member, drains: Set<string>) => (m.info.state === 'draining' || drains.has(m.info.id) ? 'draining' : 'active');
  const describe = (m: Member) => `(${m.name}, ${m.info.host}:${m.info.pid}, jobs ${m.info.jobs.join(',') || '-'})`;

  // Workers and leader.
  const before = new Map((prev?.members ?? []).map((m) => [m.name, m]));
  const now = new Map(next.members.map((m) => [m.name, m]));
  for (const m of next.members) {
    const old = before.get(m.name);
    const state = stateOf(m, drainsNow);
    if (initial) push({ kind: 'worker', worker: m.info.id, member: m.name, message: `worker ${m.info.id} ${state} ${describe(m)}` });
    else if (!old) push({ kind: 'worker-joined', worker: m.info.id, member: m.name, message: `worker ${m.info.id} joined ${describe(m)}${state === 'draining' ? ' draining' : ''}` });
    else if (stateOf(old, drainsBefore) !== state) push({ kind: 'worker-state', worker: m.info.id, member: m.name, message: `worker ${m.info.id} ${state}${drainsNow.has(m.info.id) ? ' (drain requested)' : ''}` });
  }
  for (const m of prev?.members ?? []) {
    if (!now.has(m.name)) push({ kind: 'worker-left', worker: m.info.id, member: m.name, message: `worker ${m.info.id} left (${m.name})` });
  }
  const leaderBefore = prev?.members[0];
  const leaderNow = next.members[0];
  if (leaderBefore?.name !== leaderNow?.name) {
    const was = leaderBefore ? ` (was ${leaderBefore.info.id})` : '';
    push(leaderNow
      ? { kind: 'leader', worker: leaderNow.info.id, member: leaderNow.name, message: `leader ${leaderNow.info.id} (${leaderNow.name})${initial ? '' : was}` }
      : { kind: 'leader', message: `no leader: no live worker${was}` });
  }

  // Jobs.
  const jobsBefore = new Map((prev?.jobs ?? []).map((j) => [j.name, j]));
  const jobsNow = new Map(next.jobs.map((j) => [j.name, j]));
  for (const job of next.jobs) {
    const old = jobsBefore.get(job.name);
    if (!old) push({ kind: initial ? 'job' : 'job-created', job: job.name, message: `job ${job.name}${initial ? '' : ' created'}: ${describeJob(job)}` });
    else if (old.version !== job.version) {
      const changed = job.definition ? Object.keys(diffDefinitions(old.definition, job.definition)) : ['(invalid)'];
      push({ kind: 'job-updated', job: job.name, message: `job ${job.name} updated: ${changed.join(', ') || 'rewritten unchanged'}` });
    }
    const control = describeControl(job.control);
    if (control !== (old ? describeControl(old.control) : describeControl(undefined))) {
      push({ kind: 'job-control', job: job.name, message: `job ${job.name} ${control}` });
    }
    const a = job.assignment;
    if (a && a.generation !== old?.assignment?.generation) {
      push({ kind: 'assignment', job: job.name, generation: a.generation, message: `assignment ${job.name} generation ${a.generation}: ${describeAssignment(a)}` });
    }
    if (options.runs && old) {
      for (const it of job.items) {
        const last = it.progress.recent?.[0];
        const lastBefore = old.items.find((x) => x.item === it.item)?.progress.recent?.[0];
        if (last && (last.at !== lastBefore?.at || last.fireTime !== lastBefore?.fireTime)) {
          push({
            kind: 'run', job: job.name, item: it.item, worker: last.worker,
            message: `run ${job.name}#${it.item} fire ${last.fireTime} ${last.outcome} on ${last.worker}${last.durationMs !== undefined ? ` (${last.durationMs} ms)` : ''}${last.attempt > 1 ? ` attempt ${last.attempt}` : ''}${last.error ? `: ${last.error}` : ''}`,
          });
        }
      }
    }
  }
  for (const job of prev?.jobs ?? []) {
    if (!jobsNow.has(job.name)) push({ kind: 'job-removed', job: job.name, message: `job ${job.name} removed` });
  }
  return events;
}

function describeJob(job: JobSnapshot): string {
  const d = job.definition;
  return d ? `cron "${d.cron}" ${d.timeZone}, ${d.shards} ${d.shards === 1 ? 'item' : 'items'}, ${d.strategy}` : (job.problem ?? 'invalid definition');
}

function describeControl(c: JobControl | undefined): string {
  if (!c) return 'enabled';
  const parts = [c.disabled ? 'disabled' : 'enabled'];
  if (c.disabledItems.length > 0) parts.push(`items ${formatItemList(c.disabledItems)} disabled`);
  const pins = Object.entries(c.pins);
  if (pins.length > 0) parts.push(`pins ${pins.map(([i, w]) => `${i}→${w}`).join(' ')}`);
  return parts.join(', ');
}

/** `w1: 0,2; w2: 1,3; none: 4` — items per worker id. */
export function describeAssignment(a: AssignmentRecord): string {
  const byWorker = new Map<string, number[]>();
  a.owners.forEach((o, i) => {
    const key = o === null ? 'none' : (a.workers[o] ?? o);
    byWorker.set(key, [...(byWorker.get(key) ?? []), i]);
  });
  return [...byWorker].map(([w, items]) => `${w}: ${formatItemList(items)}`).join('; ') || '(no items)';
}

export interface WatchOptions extends DiffOptions {
  /** Time between two reads. @default 1000 */
  intervalMs?: number;
  /** Stops the watch (the generator returns). */
  signal?: AbortSignal;
}

/** One read of a watch: the snapshot and what changed since the previous one. */
export interface WatchTick {
  snapshot: FleetSnapshot;
  events: FleetEvent[];
}

/**
 * Reads the fleet every `intervalMs` and yields each snapshot with its changes (the first with
 * the state at start). Returns when `signal` aborts.
 * @throws RequestError NOT_FOUND when the namespace does not exist at start.
 */
export async function* watchFleet(reader: FleetReader, options: WatchOptions = {}): AsyncGenerator<WatchTick> {
  const interval = options.intervalMs ?? 1000;
  let prev: FleetSnapshot | undefined;
  while (!options.signal?.aborted) {
    let snapshot: FleetSnapshot;
    try {
      snapshot = await reader.snapshot();
    } catch (err) {
      // The namespace went away after the start: show it empty.
      if (!(prev && err instanceof RequestError && err.code === 'NOT_FOUND')) throw err;
      snapshot = { namespace: prev.namespace, readAt: Date.now(), members: [], drains: [], jobs: [] };
    }
    if (options.signal?.aborted) return;
    yield { snapshot, events: diffSnapshots(prev, snapshot, options) };
    prev = snapshot;
    try {
      await sleep(interval, undefined, { signal: options.signal });
    } catch {
      return;
    }
  }
}
