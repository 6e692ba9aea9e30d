import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CronSchedule } from '../../src/cron/cron-schedule.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { BENCH_SESSION_TIMEOUT_MS, startBenchZooKeeper } from '../lib/bench-zookeeper.js';
import type { ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { timeAllocations, type AllocationTiming } from './allocation-timing.js';
import { AssignmentObserver } from './assignment-observer.js';
import { InProcessFleet } from './in-process-fleet.js';
import { measureEvent, type EventFigures, type EventKind } from './rebalance-event.js';
import { rebalanceJobs } from './rebalance-jobs.js';
import { allocationTable, eventsTable, rebalanceTargets, summaryTable, type RebalanceSetup } from './rebalance-report.js';
import { forgetAllRuns } from './run-recorder.js';
import { waitSteady } from './wait-steady.js';
import { countMessages, openWarnLog } from './warn-log.js';
import { rebalanceNotes } from './rebalance-notes.js';

/** Sizes of one run: the full bench (PRODUCT.md §5) or the quick smoke check. */
export interface RebalancePlan extends RebalanceSetup {
  /** Leaves and joins, alternating, leave first. */
  events: number;
  allocation: { sizes: number[]; workers: number; warmup: number; repeats: number };
  /** Workers started at once during the initial start-up. */
  startBatch: number;
}

/** The compiled run-recorder module: the handler every in-process worker loads. */
const HANDLER = fileURLToPath(new URL('./run-recorder.js', import.meta.url));

/** Runs the rebalance scenario with `plan`'s sizes. */
export async function runRebalance(ctx: ScenarioContext, plan: RebalancePlan): Promise<ScenarioResult> {
  const { signal } = ctx;

  ctx.log(`allocation: sticky, ${plan.allocation.sizes.join(' and ')} items over ${plan.allocation.workers} workers, ${plan.allocation.repeats} runs per case`);
  const timings: AllocationTiming[] = [];
  for (const items of plan.allocation.sizes) timings.push(...timeAllocations({ items, workers: plan.allocation.workers, warmup: plan.allocation.warmup, repeats: plan.allocation.repeats, signal }));

  const zk = await startBenchZooKeeper(ctx.cleanup, join(ctx.dir, 'zookeeper'));
  const warnFile = join(ctx.dir, 'workers-warn.log');
  const warnLog = openWarnLog(warnFile);
  const unregisterLog = ctx.cleanup.add('rebalance worker log', () => warnLog.close());
  const defs = rebalanceJobs({ jobs: plan.jobs, itemsPerJob: plan.itemsPerJob, periodS: plan.periodS, handler: HANDLER });
  const schedules = new Map(defs.map((d) => [d.name, CronSchedule.parse(d.cron, d.timeZone)]));
  const paths = new ZkPaths('bench-rebalance');
  forgetAllRuns();
  const observer = new AssignmentObserver(zk.connectString, paths, defs.map((d) => d.name));
  const unregisterObserver = ctx.cleanup.add('rebalance observer', () => observer.close());
  const fleet = new InProcessFleet({ connect: zk.connectString, namespace: paths.root.slice(1), jobs: defs, baseDir: ctx.dir, logger: warnLog.logger, sessionTimeoutMs: BENCH_SESSION_TIMEOUT_MS, shutdownGraceMs: 2000, cleanup: ctx.cleanup });
  const events: EventFigures[] = [];
  let startUpMs = Number.NaN;
  let steadyAt = Number.POSITIVE_INFINITY;
  let measuredUntil = Number.POSITIVE_INFINITY;
  try {
    const t0 = Date.now();
    ctx.log(`starting ${plan.workers} in-process workers, ${plan.jobs} jobs × ${plan.itemsPerJob} items, every item firing every ${plan.periodS} s`);
    const ids = Array.from({ length: plan.workers }, (_, k) => `w${String(k + 1).padStart(2, '0')}`);
    for (let k = 0; k < ids.length && !signal.aborted; k += plan.startBatch) {
      await Promise.all(ids.slice(k, k + plan.startBatch).map((id) => fleet.start(id)));
    }
    signal.throwIfAborted();
    await observer.start();
    await waitSteady({ observer, defs, members: () => new Set(fleet.memberIds().keys()), quietMs: 1000, timeoutMs: 120_000, signal, what: 'every item assigned to the started workers' });
    startUpMs = Date.now() - t0;
    ctx.log(`fleet steady after ${Math.round(startUpMs / 1000)} s; letting every item fire once on its owner, then ${plan.events} events (leave, join, …)`);
    // Settle: every item fires once on its final owner (first runs create history nodes, take-overs
    // of the start-up's moves finish) before anything is measured.
    await sleep(plan.periodS * 1000, undefined, { signal });
    steadyAt = Date.now();

    const eventCtx = { fleet, observer, paths, defs, schedules, periodMs: plan.periodS * 1000, signal };
    let joined = plan.workers;
    for (let n = 0; n < plan.events && !signal.aborted; n++) {
      const kind: EventKind = n % 2 === 0 ? 'leave' : 'join';
      const worker = kind === 'leave' ? pickLeaver(fleet, n) : `w${String(++joined).padStart(2, '0')}`;
      const e = await measureEvent(eventCtx, kind, worker);
      events.push(e);
      ctx.log(`${kind} ${worker}: moved ${e.moved} (minimum ${e.required}), assigned ${e.assignedMs.toFixed(0)} ms, running ${e.runningMs.toFixed(0)} ms, handoff max ${e.handoffLatenessMs.max.toFixed(0)} ms`);
    }
    measuredUntil = Date.now();
    signal.throwIfAborted();
  } finally {
    await fleet.closeAll().catch((err: unknown) => ctx.log(`closing the workers failed: ${(err as Error).message}`));
    await observer.close().catch(() => undefined);
    unregisterObserver();
    warnLog.close();
    unregisterLog();
    forgetAllRuns();
  }

  const warnings = countMessages(warnFile, steadyAt, measuredUntil);
  const setup: RebalanceSetup = { workers: plan.workers, jobs: plan.jobs, itemsPerJob: plan.itemsPerJob, periodS: plan.periodS };
  return {
    scenario: 'rebalance',
    params: { ...setup, items: plan.jobs * plan.itemsPerJob, events: plan.events, strategy: 'sticky', sessionTimeoutMs: BENCH_SESSION_TIMEOUT_MS, inProcess: true, allocation: plan.allocation },
    tables: [eventsTable(setup, events), summaryTable(events), allocationTable(timings)],
    targets: rebalanceTargets(setup, events, timings),
    data: { startUpMs, events, allocation: timings, sessionsLost: fleet.rejoins, workerWarnings: warnings.slice(0, 10) },
    notes: rebalanceNotes({ setup, events, sessionsLost: fleet.rejoins, warnings }),
  };
}

/** A worker to leave: never the leader (that would add an election), spread over the fleet. */
function pickLeaver(fleet: InProcessFleet, n: number): string {
  const leader = fleet.leader();
  const candidates = fleet.ids.filter((id) => id !== leader);
  return candidates[(Math.floor(candidates.length / 2) + 7 * n) % candidates.length]!;
}
