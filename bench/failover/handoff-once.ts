import { FleetOperator } from '../../src/api/fleet-operator.js';
import { readMembers } from '../../src/membership/read-members.js';
import type { BenchFleet } from '../lib/bench-fleet.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import type { FleetTimeline } from './fleet-timeline.js';
import { analyzeHandoff, MISS_WINDOW_MS, type ItemHandoff } from './handoff-analysis.js';
import { RunReleaseWatch } from './run-release-watch.js';
import type { RunTail } from '../lib/run-tail.js';
import { untilPhase } from './second-phase.js';
import { gainedAt, ownershipLines, workerLogFile } from './worker-log.js';

/** How a worker gives its items up: SIGTERM (it drains and exits) or an operator's drain request. */
export type HandoffKind = 'sigterm' | 'drain';

/** What one handoff measurement needs. */
export interface HandoffEnv {
  fleet: BenchFleet;
  timeline: FleetTimeline;
  tail: RunTail;
  /** The fleet's directory (worker logs). */
  dir: string;
  /** Fire time of a job strictly after `after` (ms since the epoch). */
  nextFire: (job: string, after: number) => number;
  /** When in the second to trigger (ms after the whole second at which the runs begin). */
  phaseMs: number;
  signal: AbortSignal;
}

/** One moved item, with the breakdown of its handoff. */
export interface ItemHandoffTiming extends ItemHandoff {
  /** Trigger → the observer sees the item's assignment name the new owner, ms. */
  reassignedMs: number;
  /** Trigger → the new owner's log says it gained the item ("owned items changed"), ms. */
  ownedMs: number;
  /** Trigger → release, ms (0 when the old owner ran the item no more after the trigger). */
  releaseMs: number;
}

/** One SIGTERM or drain. */
export interface HandoffSample {
  kind: HandoffKind;
  victim: string;
  wasLeader: boolean;
  phaseMs: number;
  triggeredAt: number;
  /** Trigger → the worker exited (SIGTERM) or zkctl's drain wait returned (drain), ms. */
  doneMs: number;
  items: ItemHandoffTiming[];
}

/**
 * Triggers a handoff of every item of `victim` at `phaseMs` past a whole second — SIGTERM, or
 * `FleetOperator.drain` (what `zkctl drain` runs) — waits for it to complete and for each item's
 * first run on its new owner plus two more seconds of fires, then measures every item (see
 * `analyzeHandoff`). Leaves the victim stopped (SIGTERM) or drained (drain).
 */
export async function handoffOnce(env: HandoffEnv, kind: HandoffKind, victim: string): Promise<HandoffSample> {
  const { fleet, timeline, tail, signal } = env;
  const members = await readMembers(fleet.zk, fleet.paths);
  const member = (await fleet.memberNames()).get(victim);
  if (!member) throw new Error(`handoff: ${victim} has no member node`);
  const owned: Array<{ job: string; item: number }> = [];
  for (const [job, owners] of await fleet.assignments()) owners.forEach((o, item) => o === member && owned.push({ job, item }));
  const watches = new Map(owned.map((o) => [`${o.job}#${o.item}`, new RunReleaseWatch(fleet.zk, fleet.paths, member, o.job, o.item)]));
  const operator = new FleetOperator(fleet.zk, fleet.paths);
  try {
    await Promise.all([...watches.values()].map((m) => m.start()));
    tail.poll();
    await untilPhase(env.phaseMs, signal);
    signal.throwIfAborted();
    const triggeredAt = Date.now();
    if (kind === 'sigterm') {
      fleet.signal(victim, 'SIGTERM');
      await fleet.waitExit(victim, 20_000);
    } else {
      await operator.drain(victim);
      await operator.waitForDrain(victim, { timeoutMs: 20_000, signal });
    }
    const doneMs = Date.now() - triggeredAt;
    const lastFirst = await waitFirstRuns(env, owned, victim, triggeredAt);
    // Every fire up to the last first run + 2 s must have been entered and flushed (every 200 ms).
    await sleepUnlessAborted(Math.max(0, lastFirst + MISS_WINDOW_MS + 700 - Date.now()), signal);
    tail.poll();

    const items: ItemHandoffTiming[] = [];
    const logs = new Map<string, ReturnType<typeof ownershipLines>>();
    for (const o of owned) {
      const runs = tail.records.filter((r) => r.job === o.job && r.item === o.item);
      const moved = timeline.movedAt(o.job, o.item, victim, triggeredAt);
      const to = moved?.to ?? runs.find((r) => r.worker !== victim && r.entry >= triggeredAt)?.worker ?? '?';
      const pid = fleet.pid(to);
      if (!logs.has(to)) logs.set(to, pid === undefined ? [] : ownershipLines(workerLogFile(env.dir, to, pid)));
      const gained = gainedAt(logs.get(to)!, o.job, o.item, triggeredAt);
      const h = analyzeHandoff({ ...o, from: victim, to, triggeredAt, runReleasedAt: watches.get(`${o.job}#${o.item}`)!.lastRelease(triggeredAt), runs, nextFire: (after) => env.nextFire(o.job, after) });
      items.push({ ...h, reassignedMs: moved ? moved.at - triggeredAt : Number.NaN, ownedMs: gained === undefined ? Number.NaN : gained - triggeredAt, releaseMs: h.releasedAt - triggeredAt });
    }
    return { kind, victim, wasLeader: members[0]?.name === member, phaseMs: env.phaseMs, triggeredAt, doneMs, items };
  } finally {
    for (const m of watches.values()) m.close();
  }
}

/** Waits (≤ 20 s) until every item has a handler entry on another worker; returns the latest first entry. */
async function waitFirstRuns(env: HandoffEnv, owned: ReadonlyArray<{ job: string; item: number }>, victim: string, since: number): Promise<number> {
  const first = new Map<string, number>();
  const wanted = new Set(owned.map((o) => `${o.job}#${o.item}`));
  const deadline = since + 20_000;
  while (!env.signal.aborted && Date.now() < deadline) {
    for (const r of env.tail.poll()) {
      const key = `${r.job}#${r.item}`;
      if (wanted.has(key) && r.worker !== victim && r.entry >= since && !first.has(key)) first.set(key, r.entry);
    }
    if (first.size === wanted.size) break;
    await sleepUnlessAborted(250, env.signal);
  }
  return first.size > 0 ? Math.max(...first.values()) : Date.now();
}
