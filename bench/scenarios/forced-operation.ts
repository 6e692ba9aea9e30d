import { JobAdmin } from '../../src/api/job-admin.js';
import { readRunRecords, type RunRecord } from '../lib/run-records.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { startFleet, withBenchFleet } from '../lib/with-bench-fleet.js';
import { benchJobs, waitForCompleteSeconds } from './lateness.js';

export interface ForcedOperationOptions {
  jobs: number;
  items: number;
  workers: number;
  /** How long before its instant each forced remove is sent, ms (one remove per entry). */
  leadsMs: number[];
  /** Instants between two removes. */
  everySeconds: number;
}

/** One forced remove and the two instants after it was sent. */
export interface ForcedRemove {
  job: string;
  /** The instant it was sent before (epoch ms). */
  instant: number;
  leadMs: number;
  /** When it was sent and when its transaction had committed, ms before the instant. */
  sentBeforeMs: number;
  committedBeforeMs: number;
  /** Its instant, and the one after it: runs / fires due there (the jobs not removed), lateness. */
  at: InstantFigures;
  next: InstantFigures;
}

export interface InstantFigures {
  runs: number;
  due: number;
  lateness: Summary;
}

export interface ForcedOperationFigures extends ForcedOperationOptions {
  removes: ForcedRemove[];
  /** Over the whole window, of the jobs not removed by then: fires that never ran, fires run twice. */
  notRun: number;
  duplicates: number;
  due: number;
}

/** The first remove comes this many seconds after the fleet is steady (the window opens 2 s before it). */
const FIRST_REMOVE_S = 5;
/** The window goes on this many seconds after the instant of the last remove. */
const TAIL_S = 4;
/** Run records are flushed every 200 ms: this long after the window every run of it is on disk. */
const FLUSH_MS = 2500;

/**
 * 1,000 jobs × 8 items every second on 4 workers; during the window an operator removes one job
 * at a time with `--force`, each sent `leadMs` before an instant, after the workers have begun its
 * batch. A forced remove clears the runs it takes from their owners' ledgers and fences the owners
 * (their member nodes' version moves), so every run begun for that instant must confirm it is still
 * held before its handler: what that costs the instant, and that no other job loses a fire.
 */
export async function measureForcedOperation(ctx: ScenarioContext, o: ForcedOperationOptions): Promise<ForcedOperationFigures> {
  const jobs = benchJobs(o.jobs, o.items);
  const perInstant = o.jobs * o.items;
  return withBenchFleet(ctx, `forced-${o.jobs}`, { jobs, workers: o.workers }, async ({ fleet, dir }) => {
    await startFleet(ctx, fleet, 240_000);
    await waitForCompleteSeconds(dir, perInstant, ctx.signal);
    const first = Math.ceil(Date.now() / 1000) * 1000 + FIRST_REMOVE_S * 1000;
    const from = first - 2000;
    const to = first + (o.leadsMs.length - 1) * o.everySeconds * 1000 + TAIL_S * 1000;
    const admin = new JobAdmin(fleet.zk, fleet.paths);
    /** The jobs removed (the last ones), with the instant they were removed before. */
    const plan = o.leadsMs.map((leadMs, k) => ({ job: jobs[jobs.length - 1 - k]!.name, instant: first + k * o.everySeconds * 1000, leadMs }));
    const sent: Array<{ sentBeforeMs: number; committedBeforeMs: number }> = [];
    ctx.log(`removing ${plan.length} jobs with --force, one every ${o.everySeconds} s, ${o.leadsMs.join('/')} ms before an instant, from ${new Date(first).toISOString()}`);
    for (const p of plan) {
      await sleepUnlessAborted(p.instant - p.leadMs - Date.now(), ctx.signal);
      if (ctx.signal.aborted) break;
      const t0 = Date.now();
      await admin.remove(p.job, { force: true });
      sent.push({ sentBeforeMs: p.instant - t0, committedBeforeMs: p.instant - Date.now() });
    }
    await sleepUnlessAborted(to + FLUSH_MS - Date.now(), ctx.signal);
    const records = readRunRecords(dir).filter((r) => r.fire >= from && r.fire < to);
    const removedAt = new Map(plan.map((p) => [p.job, p.instant]));
    /** Whether the fire was due: its job had not been removed before the instant. */
    const due = (job: string, fire: number): boolean => fire < (removedAt.get(job) ?? Infinity);
    const byInstant = new Map<number, RunRecord[]>();
    const seen = new Set<string>();
    let duplicates = 0;
    for (const r of records) {
      if (!due(r.job, r.fire)) continue;
      const key = `${r.job} ${r.item} ${r.fire}`;
      if (seen.has(key)) duplicates++;
      else seen.add(key);
      let list = byInstant.get(r.fire);
      if (!list) byInstant.set(r.fire, (list = []));
      list.push(r);
    }
    const dueAt = (instant: number): number => o.items * (o.jobs - plan.filter((p) => p.instant <= instant).length);
    let dueTotal = 0;
    for (let t = from; t < to; t += 1000) dueTotal += dueAt(t);
    const instantFigures = (instant: number): InstantFigures => {
      const runs = byInstant.get(instant) ?? [];
      return { runs: new Set(runs.map((r) => `${r.job} ${r.item}`)).size, due: dueAt(instant), lateness: summarize(runs.map((r) => r.entry - r.fire)) };
    };
    const removes = plan.slice(0, sent.length).map((p, k): ForcedRemove => ({ ...p, ...sent[k]!, at: instantFigures(p.instant), next: instantFigures(p.instant + 1000) }));
    return { ...o, removes, notRun: dueTotal - seen.size, duplicates, due: dueTotal };
  });
}

/** Scenario: the instants after forced removes at 1,000 jobs × 8 items on 4 workers. */
export const forcedOperation: Scenario = {
  name: 'forced-operation',
  summary: 'forced `zkctl remove` of one job at a time while 1,000 jobs × 8 items fire every second on 4 workers: the instants after it, and every other fire run once',
  async run(ctx): Promise<ScenarioResult> {
    const o: ForcedOperationOptions = { jobs: 1000, items: 8, workers: 4, leadsMs: ctx.quick ? [150, 100] : [150, 100, 200, 120, 180, 140], everySeconds: 5 };
    const f = await measureForcedOperation(ctx, o);
    const worst = f.removes.reduce((w, r) => Math.max(w, r.at.lateness.max), 0);
    ctx.log(`${f.removes.length} removes: the instant after each entered at most ${ms(worst)} ms late; ${f.notRun} of ${f.due} fires of the other jobs not run, ${f.duplicates} run twice`);
    return {
      scenario: 'forced-operation',
      params: { ...o, cron: '* * * * * *', handler: 'no-op (records entry time)' },
      tables: [
        {
          title: 'Forced removes of one job, sent before an instant whose batch the workers had begun: that instant and the next (lateness of their fires, ms)',
          columns: ['job', 'sent before the instant', 'committed before it', 'its fires run / due', 'p50', 'p99', 'max', 'next instant run / due', 'next p99', 'next max'],
          rows: f.removes.map((r) => [r.job, `${r.sentBeforeMs} ms`, `${r.committedBeforeMs} ms`, `${r.at.runs} / ${r.at.due}`, ms(r.at.lateness.p50), ms(r.at.lateness.p99), ms(r.at.lateness.max), `${r.next.runs} / ${r.next.due}`, ms(r.next.lateness.p99), ms(r.next.lateness.max)]),
        },
      ],
      targets: [
        { what: 'fires due (their job not removed by then) that never ran, beside forced removes of other jobs', target: '0', measured: `${f.notRun} of ${f.due}`, met: f.notRun === 0 },
        { what: 'fires run twice', target: '0', measured: String(f.duplicates), met: f.duplicates === 0 },
      ],
      data: { figures: f },
      notes: ['No PRODUCT.md target for the lateness of the instant after a forced operation: it is reported. Every run begun for that instant confirms its fence before its handler (the remove moved every owner\'s fence); the runs of one turn share one read of the member node and one of each ledger part (`FenceConfirmations`), so the instant waits for those two round trips to a ZooKeeper that is also committing the remove and the new assignment.'],
    };
  },
};
