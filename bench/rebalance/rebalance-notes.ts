import type { EventFigures } from './rebalance-event.js';
import type { RebalanceSetup } from './rebalance-report.js';

/** What the notes are written from. */
export interface NotesInput {
  setup: RebalanceSetup;
  events: readonly EventFigures[];
  sessionsLost: number;
  /** Worker warnings logged while events were measured, most frequent first. */
  warnings: ReadonlyArray<{ msg: string; count: number }>;
}

/** One sentence per figure on what limits it, plus caveats the run itself showed. */
export function rebalanceNotes({ setup, events, sessionsLost, warnings }: NotesInput): string[] {
  const items = (setup.jobs * setup.itemsPerJob).toLocaleString('en-US');
  const perSecond = Math.round((setup.jobs * setup.itemsPerJob) / setup.periodS).toLocaleString('en-US');
  const out = [
    `All ${setup.workers} workers run in this one Node process (one event loop, each its own ZooKeeper session) next to the ZooKeeper JVM on the same 2-core machine, so every time includes the other workers' work: after each change all ${setup.workers} workers re-read every changed job's assignment (${setup.jobs} znodes each) on that one event loop, where separate processes would do it in parallel.`,
    `Moves are owner changes between the steady assignments before and after, over all jobs; the minimum is the leaver's items plus minimumMoves over the remaining workers (for a join: what the newcomer must get), computed from the members ZooKeeper lists afterwards.`,
    `"member change" is when ZooKeeper recorded the leaver's draining announcement or the newcomer's member node; "assigned" is the mtime of the assignment write that gave the last moved item its final owner (server clock, this machine), so it is limited by the leader's reaction (watch, reconcile of all jobs, one multi); "seen" adds the observer's re-read in this busy process.`,
    `"running" includes waiting for each moved item's next fire time (every ${setup.periodS} s), so it is at most "assigned" + ${setup.periodS} s; ${setup.periodS} s rather than 1 s so that the fleet fires ${perSecond} items/s, not ${items}/s (two ZooKeeper multis per worker per fire instant, all on one event loop) and the bench measures the rebalance, not an overloaded process.`,
    `"handoff delay" is each moved item's first run on its new owner minus max(event start, the fire time of that run): the delay a job firing at every instant would see (compare "unmoved lateness", the same process's ordinary fire lateness meanwhile, and "loop stall max", the longest this one event loop was blocked, mostly by all workers decoding the new assignments at once); "fires lost" counts moved items whose first fire on the new owner is later than the one after the last fire run elsewhere (a missed fire is run late by misfire: fire-once, not lost).`,
    `A join is measured from Worker.start(): the newcomer registers every job, reads every job's definition and assignment (64 at a time) and checks its clock before its member node exists, so once the leader hands it items it runs them at once; "member change" is therefore most of a join's time.`,
    `The leaver is never the leader (a leader leaving adds an election, not measured here); a leave is a graceful shutdown(): the worker stops firing and announces draining first, so its items move before it closes its session.`,
    `Allocation is one pure call on one thread after a JIT warm-up; the leader calls it once per job (at most 10,000 items per job), so 100k items in one call is a bound, and GC pauses show in the max.`,
  ];
  const skew = events.filter((e) => e.loadMax - e.loadMin > setup.jobs / 2);
  if (skew.length > 0) {
    out.push(`Balance is per job: with ${setup.itemsPerJob} items over ${skew[0]!.workersAfter} workers every job gives its spare items to the same lowest-sequence workers, so across all jobs a worker owned ${skew[0]!.loadMin}–${skew[0]!.loadMax} items after "${skew[0]!.kind} ${skew[0]!.worker}".`);
  }
  if (sessionsLost > 0) out.push(`${sessionsLost} worker session(s) were lost and rejoined during the run: the machine was overloaded, the figures are suspect.`);
  if (warnings.length > 0) out.push(`Worker warnings while measuring: ${warnings.slice(0, 3).map((w) => `${w.count}× "${w.msg}"`).join(', ')}.`);
  return out;
}
