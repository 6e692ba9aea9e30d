import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { readMembers } from '../../src/membership/read-members.js';
import type { CronSchedule } from '../../src/cron/cron-schedule.js';
import { waitFor } from '../../src/testing/wait-for.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { AssignmentObserver } from './assignment-observer.js';
import { doubleRuns, handoffs } from './handoff-analysis.js';
import type { InProcessFleet } from './in-process-fleet.js';
import { memberCreatedAt, watchMemberChange } from './member-change.js';
import { loadSpread, movedItems, requiredMoves } from './move-analysis.js';
import { epochNow, forgetRunsBefore, recordedRuns } from './run-recorder.js';
import { waitSteady } from './wait-steady.js';

/** A worker leaving gracefully (`shutdown()`), or a new one joining (`start()`). */
export type EventKind = 'leave' | 'join';

/** Figures of one leave or join; durations in ms from the moment `shutdown()`/`start()` was called. */
export interface EventFigures {
  kind: EventKind;
  worker: string;
  workersBefore: number;
  workersAfter: number;
  /** Items whose owner changed, over all jobs. */
  moved: number;
  /** Fewest changes possible (the leaver's items, or what the newcomer must get for balance). */
  required: number;
  /** Until ZooKeeper recorded the membership change (leave: `draining` announced; join: member node created). */
  memberChangeMs: number;
  /** Until ZooKeeper wrote the last moved item's final owner (assignment znode mtime): "assigned". */
  assignedMs: number;
  /** Until the observer (one more session in this process) had read every moved item's final owner. */
  seenMs: number;
  /** Until every moved item had entered its handler on its new owner ("running"; includes the wait for its next fire time). */
  runningMs: number;
  /** Moved items that did not run on their new owner before the deadline. */
  notRun: number;
  /** Per moved item: new owner's first handler entry minus max(event start, that run's fire time). */
  handoffLatenessMs: Summary;
  /** Fire lateness (entry minus fire time) of the items that did not move, fires since the event start: the baseline. */
  unmovedLatenessMs: Summary;
  /** Moved items whose first fire on the new owner is later than the fire after the last one run elsewhere. */
  lostFires: number;
  /** Fires entered twice (any item) since the event started. */
  doubleRuns: number;
  /** Longest event-loop stall of this process (all workers share it) from the event start until the moved items ran. */
  loopStallMaxMs: number;
  /** How long `shutdown()` / `start()` took. */
  actionMs: number;
  /** Fewest and most items per worker afterwards, all jobs together. */
  loadMin: number;
  loadMax: number;
}

export interface EventContext {
  fleet: InProcessFleet;
  observer: AssignmentObserver;
  paths: ZkPaths;
  defs: readonly JobDefinition[];
  schedules: ReadonlyMap<string, CronSchedule>;
  periodMs: number;
  signal: AbortSignal;
}

/** Waits for a steady fleet, then makes `worker` leave or join and measures the rebalance. */
export async function measureEvent(ctx: EventContext, kind: EventKind, worker: string): Promise<EventFigures> {
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  try {
    return await runEvent(ctx, kind, worker, stalls);
  } finally {
    stalls.disable();
  }
}

async function runEvent(ctx: EventContext, kind: EventKind, worker: string, stalls: IntervalHistogram): Promise<EventFigures> {
  const { fleet, observer, defs, signal, paths } = ctx;
  const members = (): ReadonlySet<string> => new Set(fleet.memberIds().keys());
  const steady = (what: string) => waitSteady({ observer, defs, members, quietMs: 500, timeoutMs: 60_000, signal, what });
  const before = await steady(`a steady fleet before the ${kind} of ${worker}`);
  observer.compact();
  forgetRunsBefore(epochNow() - 3 * ctx.periodMs);
  const workersBefore = fleet.ids.length;
  const leaverMember = kind === 'leave' ? fleet.worker(worker)?.memberName : undefined;
  const drained = leaverMember ? await watchMemberChange(observer.zk, paths.member(leaverMember)) : undefined;

  stalls.enable();
  const startedAt = epochNow();
  /** The start as ZooKeeper's ms-resolution times (mtime, ctime) would record it. */
  const startedAtMs = Math.floor(startedAt);
  let actionDoneAt = Number.NaN;
  const acted = (kind === 'leave' ? fleet.leave(worker) : fleet.start(worker)).then(() => void (actionDoneAt = epochNow()));
  acted.catch(() => undefined); // awaited below; no unhandled rejection if a wait fails first
  if (kind === 'join') await acted;
  const after = await steady(`a steady fleet after the ${kind} of ${worker}`);
  await acted;
  const joinedMember = kind === 'join' ? fleet.worker(worker)?.memberName : undefined;
  const memberChangeAt = drained
    ? await Promise.race([drained.changedAt, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())])
    : joinedMember
      ? await memberCreatedAt(observer.zk, paths.member(joinedMember))
      : undefined;

  const eligible = (await readMembers(observer.zk, paths)).filter((m) => m.info.state === 'active').map((m) => ({ id: m.name, capacity: m.info.capacity }));
  const moved = movedItems(before, after);
  const required = requiredMoves(before, defs, eligible);
  const ids = fleet.memberIds();
  const workerOf = (member: string): string | undefined => ids.get(member);
  let assignedAt = startedAtMs;
  let seenAt = startedAt;
  for (const m of moved) {
    const since = m.to === null ? undefined : observer.ownedSince(m.job, m.item, m.to);
    assignedAt = Math.max(assignedAt, since?.writtenAt ?? Number.NaN);
    seenAt = Math.max(seenAt, since?.at ?? Number.NaN);
  }

  // Every moved item runs on its new owner at its next fire time at the latest (checked
  // incrementally: the check runs on the measured event loop).
  const pending = new Map(moved.map((m) => [`${m.job}#${m.item}`, m.to === null ? undefined : workerOf(m.to)]));
  let cursor = 0;
  const ranAll = (): boolean => {
    const all = recordedRuns();
    for (; cursor < all.length; cursor++) {
      const r = all[cursor]!;
      const key = `${r.job}#${r.item}`;
      if (r.entry >= startedAt && pending.has(key) && pending.get(key) === r.worker) pending.delete(key);
    }
    for (const [key, to] of pending) if (to === undefined) pending.delete(key);
    return pending.size === 0;
  };
  await waitFor(ranAll, { timeoutMs: ctx.periodMs + 5000, intervalMs: 100, signal, message: 'moved items to run on their new owners' }).catch((err: unknown) => {
    if (signal.aborted) throw err;
  });
  stalls.disable();
  const runs = recordedRuns().filter((r) => r.entry >= startedAt - ctx.periodMs);
  const found = handoffs({ moved, runs, startedAt, schedules: ctx.schedules, workerOf });
  const ran = found.filter((h) => h.firstRun !== undefined);
  const movedKeys = new Set(moved.map((m) => `${m.job}#${m.item}`));
  const unmoved = runs.filter((r) => r.fire >= startedAt && r.attempt === 1 && !movedKeys.has(`${r.job}#${r.item}`));
  const spread = loadSpread(after);
  return {
    kind,
    worker,
    workersBefore,
    workersAfter: fleet.ids.length,
    moved: moved.length,
    required,
    memberChangeMs: (memberChangeAt ?? Number.NaN) - startedAtMs,
    assignedMs: assignedAt - startedAtMs,
    seenMs: seenAt - startedAt,
    runningMs: ran.length === found.length && ran.length > 0 ? Math.max(...ran.map((h) => h.firstRun!.entry)) - startedAt : Number.NaN,
    notRun: found.length - ran.length,
    handoffLatenessMs: summarize(ran.map((h) => h.firstRun!.entry - Math.max(startedAt, h.firstRun!.fire))),
    unmovedLatenessMs: summarize(unmoved.map((r) => r.entry - r.fire)),
    lostFires: ran.filter((h) => h.expectedFire !== undefined && h.firstRun!.fire > h.expectedFire).length,
    doubleRuns: doubleRuns(runs),
    loopStallMaxMs: stalls.max / 1e6,
    actionMs: actionDoneAt - startedAt,
    loadMin: spread.min,
    loadMax: spread.max,
  };
}
