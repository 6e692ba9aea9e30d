import type { FleetSnapshot, JobSnapshot } from '../api/fleet-snapshot.js';
import type { RunOutcome } from '../model/progress-record.js';

/** `assignment`: the leader wrote a new assignment; owners by worker id (null: no owner). */
export interface AssignmentEvent {
  type: 'assignment';
  job: string;
  generation: number;
  owners: (string | null)[];
}

/** `run`: an item started (no outcome) or ended (with its outcome). */
export interface RunEvent {
  type: 'run';
  job: string;
  item: number;
  fireTime: string;
  attempt: number;
  worker: string;
  outcome?: RunOutcome;
}

/** `member`: a worker joined, left, or changed state (active / draining). */
export interface MemberEvent {
  type: 'member';
  worker: string;
  member: string;
  state: 'joined' | 'left' | 'active' | 'draining' | 'leader';
}

/** `job`: a job was created, removed, or its definition or control changed. */
export interface JobEvent {
  type: 'job';
  job: string;
  change: 'created' | 'updated' | 'removed' | 'control';
}

export type ConsoleEvent = AssignmentEvent | RunEvent | MemberEvent | JobEvent;

/**
 * The events from one snapshot to the next. Only `jobs` are compared (the ones whose nodes
 * changed); members always. Pure.
 */
export function diffFleet(prev: FleetSnapshot, next: FleetSnapshot, jobs: Iterable<string>, members: boolean): ConsoleEvent[] {
  const out: ConsoleEvent[] = [];
  if (members) {
    const stateOf = (s: FleetSnapshot, m: FleetSnapshot['members'][number]) => (m.info.state === 'draining' || s.drains.includes(m.info.id) ? 'draining' : 'active');
    const before = new Map(prev.members.map((m) => [m.name, m]));
    const now = new Set(next.members.map((m) => m.name));
    for (const m of next.members) {
      const old = before.get(m.name);
      if (!old) out.push({ type: 'member', worker: m.info.id, member: m.name, state: 'joined' });
      else if (stateOf(prev, old) !== stateOf(next, m)) out.push({ type: 'member', worker: m.info.id, member: m.name, state: stateOf(next, m) });
    }
    for (const m of prev.members) if (!now.has(m.name)) out.push({ type: 'member', worker: m.info.id, member: m.name, state: 'left' });
    const leader = next.members[0];
    if (leader && leader.name !== prev.members[0]?.name) out.push({ type: 'member', worker: leader.info.id, member: leader.name, state: 'leader' });
  }
  const prevJobs = new Map(prev.jobs.map((j) => [j.name, j]));
  const nextJobs = new Map(next.jobs.map((j) => [j.name, j]));
  for (const name of jobs) {
    const a = prevJobs.get(name);
    const b = nextJobs.get(name);
    if (!b) {
      if (a) out.push({ type: 'job', job: name, change: 'removed' });
      continue;
    }
    if (!a) out.push({ type: 'job', job: name, change: 'created' });
    else if (a.version !== b.version) out.push({ type: 'job', job: name, change: 'updated' });
    else if (JSON.stringify(a.control) !== JSON.stringify(b.control)) out.push({ type: 'job', job: name, change: 'control' });
    const asg = b.assignment;
    if (asg && asg.generation !== a?.assignment?.generation) {
      out.push({ type: 'assignment', job: name, generation: asg.generation, owners: asg.owners.map((o) => (o === null ? null : (asg.workers[o] ?? o))) });
    }
    out.push(...runEvents(a, b));
  }
  return out;
}

function runEvents(a: JobSnapshot | undefined, b: JobSnapshot): RunEvent[] {
  const out: RunEvent[] = [];
  const before = new Map((a?.items ?? []).map((i) => [i.item, i]));
  for (const it of b.items) {
    const old = before.get(it.item);
    // Runs going on: a live member's run in flight (a gone member's was cut short).
    const m = it.run?.live ? it.run : undefined;
    const om = old?.run?.live ? old.run : undefined;
    let started: string | undefined;
    if (m && (!om || om.fireTime !== m.fireTime || om.attempt !== m.attempt || om.member !== m.member)) {
      out.push({ type: 'run', job: b.name, item: it.item, fireTime: m.fireTime, attempt: m.attempt, worker: m.worker ?? m.member });
      started = `${m.fireTime}|${m.attempt}`;
    }
    const p = it.progress;
    const op = old?.progress;
    const ended = (x: typeof p | undefined) => (x?.lastCompleted === undefined ? undefined : `${x.lastCompleted}|${x.outcome}|${x.attempt}|${x.worker}`);
    // An end older than the one told is no news: a success its member's ledger alone recorded
    // shows only until that member begins the item again (`withLedgerSuccess` in the snapshot),
    // and then the record says an earlier end until the item's history is written.
    const older = op?.lastCompleted !== undefined && p.lastCompleted !== undefined && p.lastCompleted < op.lastCompleted;
    if (old && ended(p) !== undefined && ended(p) !== ended(op) && !older) {
      // A run shorter than the coalescing window: it began and ended between two reads.
      // It did start: say so before its end, so that every end follows its start.
      const key = `${p.lastCompleted}|${p.attempt ?? 0}`;
      if (started !== key && (om === undefined || `${om.fireTime}|${om.attempt}` !== key) && p.worker !== undefined && p.outcome !== 'missed' && p.outcome !== 'skipped') {
        out.push({ type: 'run', job: b.name, item: it.item, fireTime: p.lastCompleted!, attempt: p.attempt ?? 0, worker: p.worker });
      }
      out.push({ type: 'run', job: b.name, item: it.item, fireTime: p.lastCompleted!, attempt: p.attempt ?? 0, worker: p.worker ?? '?', ...(p.outcome ? { outcome: p.outcome } : {}) });
    }
  }
  return out;
}
