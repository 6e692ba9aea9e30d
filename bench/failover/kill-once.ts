import { readMembers } from '../../src/membership/read-members.js';
import type { BenchFleet } from '../lib/bench-fleet.js';
import type { RunRecord } from '../lib/run-records.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import type { FleetTimeline } from './fleet-timeline.js';
import type { RunTail } from '../lib/run-tail.js';
import { untilPhase } from './second-phase.js';

/** What one SIGKILL measurement needs. */
export interface KillEnv {
  fleet: BenchFleet;
  timeline: FleetTimeline;
  tail: RunTail;
  sessionTimeoutMs: number;
  /** When in the second to kill (ms after the whole second at which the runs begin). */
  phaseMs: number;
  signal: AbortSignal;
}

/** One of the killed worker's items running again on a survivor. */
export interface ItemRecovery {
  job: string;
  item: number;
  /** Survivor that ran it. */
  worker: string;
  /** Attempt of that run: ≥ 2 for the interrupted fire run again. */
  attempt: number;
  /** Handler entry − SIGKILL, ms. */
  recoveryMs: number;
  /** Handler entry − the observer seeing the job's assignment without the killed member, ms. */
  takeoverMs: number;
}

/** One SIGKILL of a worker holding items mid-run. */
export interface KillSample {
  victim: string;
  /** Whether the killed worker was the leader (then the assignment waits for a new leader too). */
  wasLeader: boolean;
  killedAt: number;
  /** Items it owned when killed. */
  items: number;
  /** SIGKILL → the observer sees its member znode gone (ZooKeeper's session expiry), ms. */
  memberGoneMs: number;
  /** SIGKILL → the observer sees the last of its jobs' assignments without it, ms. */
  reassignedMs: number;
  recoveries: ItemRecovery[];
  /** Items not run again elsewhere before the deadline (session timeout + 10 s). */
  unrecovered: Array<{ job: string; item: number }>;
}

/**
 * SIGKILLs worker `victim` at `phaseMs` past a whole second (its every-second runs are then in
 * progress) and waits until every item it owned has a handler entry on another worker, or until
 * session timeout + 10 s. Does not restart it.
 */
export async function killOnce(env: KillEnv, victim: string): Promise<KillSample> {
  const { fleet, timeline, tail, signal } = env;
  const member = (await fleet.memberNames()).get(victim);
  if (!member) throw new Error(`failover: ${victim} has no member node`);
  const owned: Array<{ job: string; item: number }> = [];
  for (const [job, owners] of await fleet.assignments()) owners.forEach((o, item) => o === member && owned.push({ job, item }));
  const wasLeader = (await readMembers(fleet.zk, fleet.paths))[0]?.name === member;
  tail.poll();

  await untilPhase(env.phaseMs, signal);
  signal.throwIfAborted();
  const killedAt = Date.now();
  fleet.signal(victim, 'SIGKILL');

  const first = new Map<string, RunRecord>();
  const pending = new Set(owned.map((o) => `${o.job}#${o.item}`));
  const deadline = killedAt + env.sessionTimeoutMs + 10_000;
  let settled = false;
  while (!signal.aborted && Date.now() < deadline) {
    for (const r of tail.poll()) {
      const key = `${r.job}#${r.item}`;
      if (!pending.has(key) || r.worker === victim || r.entry < killedAt) continue;
      const seen = first.get(key);
      if (!seen || r.entry < seen.entry) first.set(key, r);
    }
    if (first.size === pending.size) {
      if (settled) break;
      settled = true; // one more read: an earlier entry may still sit in another worker's buffer
    }
    await sleepUnlessAborted(300, signal);
  }
  await fleet.waitExit(victim, 5000);

  const gone = timeline.memberGoneAt(member);
  const cleared = new Map<string, number>();
  for (const job of new Set(owned.map((o) => o.job))) {
    const at = timeline.clearedAt(job, member, killedAt);
    if (at !== undefined) cleared.set(job, at);
  }
  const recoveries: ItemRecovery[] = [];
  const unrecovered: Array<{ job: string; item: number }> = [];
  for (const o of owned) {
    const r = first.get(`${o.job}#${o.item}`);
    if (!r) {
      unrecovered.push(o);
      continue;
    }
    const clearedAt = cleared.get(o.job);
    recoveries.push({ job: o.job, item: o.item, worker: r.worker, attempt: r.attempt, recoveryMs: r.entry - killedAt, takeoverMs: clearedAt === undefined ? Number.NaN : r.entry - clearedAt });
  }
  const jobs = new Set(owned.map((o) => o.job)).size;
  const reassigned = jobs > 0 && cleared.size === jobs ? Math.max(...cleared.values()) - killedAt : Number.NaN;
  return { victim, wasLeader, killedAt, items: owned.length, memberGoneMs: gone === undefined ? Number.NaN : gone - killedAt, reassignedMs: reassigned, recoveries, unrecovered };
}
