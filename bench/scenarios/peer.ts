import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/testing/worker-fleet.js';
import { BENCH_SESSION_TIMEOUT_MS } from '../lib/bench-zookeeper.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { ms, ratio, type Summary } from '../lib/stats.js';
import type { BenchTable } from '../lib/table.js';
import {
  BULLMQ_DEFAULT,
  bullmqTuned,
  measureBullmqFailover,
  measureBullmqLateness,
  type BullmqFailoverFigures,
  type BullmqLatenessFigures,
} from '../peer/bullmq-bench.js';
import { startRedisServer } from '../peer/redis-server.js';
import { measureFailover, type FailoverFigures } from './failover.js';
import { measureLateness, type LatenessFigures } from './lateness.js';

/** Load and sizes of the peer scenario. */
interface PeerPlan {
  /** Our lateness run when the lateness scenario did not run before (1,000 jobs × 8 items, 4 workers). */
  oursLatenessMs: number;
  /** Our kills when the failover scenario did not run before. */
  oursKills: number;
  schedulers: number;
  workers: number;
  /** BullMQ worker concurrency for the no-op lateness processor (1: BullMQ's default). */
  latenessConcurrency: number;
  latenessMs: number;
  warmupMs: number;
  /** Schedulers of the failover phase: as many 700 ms runs per second as zkshard's 4 jobs × 8 items. */
  failoverSchedulers: number;
  /** Enough for every 700 ms run to start at its fire with one worker down. */
  failoverConcurrency: number;
  failoverRunMs: number;
  /** Kill instant after a whole second, as for zkshard. */
  killPhaseMs: number;
  defaultKills: number;
  tunedKills: number;
  /** No new kill starts after this long in one phase. */
  defaultBudgetMs: number;
  tunedBudgetMs: number;
}

/** Full mode: about 7–8 minutes of BullMQ, plus ours when the lateness / failover scenarios did not run first. */
const FULL: PeerPlan = {
  oursLatenessMs: 60_000,
  oursKills: 10,
  schedulers: 1000,
  workers: 4,
  latenessConcurrency: 1,
  latenessMs: 60_000,
  warmupMs: 5000,
  failoverSchedulers: 32,
  failoverConcurrency: 20,
  failoverRunMs: 700,
  killPhaseMs: 300,
  defaultKills: 3,
  tunedKills: 10,
  defaultBudgetMs: 150_000,
  tunedBudgetMs: 150_000,
};

/** Quick mode (`--quick`): about 2 minutes of BullMQ; a smoke check, not figures to publish. */
const QUICK: PeerPlan = { ...FULL, oursLatenessMs: 10_000, oursKills: 2, latenessMs: 8000, warmupMs: 2000, defaultKills: 1, tunedKills: 3, defaultBudgetMs: 30_000, tunedBudgetMs: 40_000 };

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Our figures from this invocation's lateness and failover scenarios, or measured now. */
async function ourFigures(ctx: ScenarioContext, plan: PeerPlan): Promise<{ lateness?: LatenessFigures; failover?: FailoverFigures; measuredHere: string[] }> {
  const measuredHere: string[] = [];
  let lateness = (ctx.previous.get('lateness')?.data.figures as LatenessFigures[] | undefined)?.find((f) => f.jobs === 1000 && f.v8PoolSize === undefined);
  if (!lateness && !ctx.signal.aborted) {
    ctx.log('no lateness figures from this run: measuring ours (1,000 jobs × 8 items, 4 workers)');
    lateness = await measureLateness(ctx, { jobs: 1000, items: 8, workers: 4, durationMs: plan.oursLatenessMs });
    measuredHere.push('lateness');
  }
  let failover = ctx.previous.get('failover')?.data.figures as FailoverFigures | undefined;
  if (!failover && !ctx.signal.aborted) {
    ctx.log(`no failover figures from this run: measuring ours (${plan.oursKills} kills)`);
    failover = await measureFailover(ctx, { kills: plan.oursKills });
    measuredHere.push('failover');
  }
  return { lateness, failover, measuredHere };
}

type Pick<T> = (f: T) => number;

/** One table row: our figure, each BullMQ figure, then (for durations and rates) each BullMQ ÷ ours. */
function row<A, B>(label: string, ours: A | undefined, oursPick: Pick<A> | undefined, theirs: ReadonlyArray<B | undefined>, pick: Pick<B>, fmt: (v: number) => string, ratios = true): Array<string | number> {
  const o = ours !== undefined && oursPick ? oursPick(ours) : Number.NaN;
  const t = theirs.map((f) => (f === undefined ? Number.NaN : pick(f)));
  return [label, fmt(o), ...t.map(fmt), ...t.map((v) => (ratios ? ratio(v, o) : '–'))];
}

const count = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : '–');
const perSecond = (runs: number, durationMs: number): number => runs / (durationMs / 1000);
const COLUMNS = ['', 'zkshard', 'BullMQ default', 'BullMQ tuned', 'default ÷ zkshard', 'tuned ÷ zkshard'];

function latenessTable(ours: LatenessFigures | undefined, theirs: ReadonlyArray<BullmqLatenessFigures | undefined>): BenchTable {
  const q = (label: string, pick: (x: Summary) => number) => row(label, ours, (f) => pick(f.lateness), theirs, (f) => pick(f.lateness), ms);
  return {
    title: 'Fire lateness (ms, handler entry − scheduled fire time): zkshard 1,000 jobs × 8 items vs BullMQ 1,000 job schedulers, every second, 4 worker processes',
    columns: COLUMNS,
    rows: [
      q('p50', (x) => x.p50),
      q('p99', (x) => x.p99),
      q('p99.9', (x) => x.p999),
      q('max', (x) => x.max),
      row('duplicates', ours, (f) => f.duplicates, theirs, (f) => f.duplicates, count, false),
      row('misses', ours, (f) => f.misses, theirs, (f) => f.misses, count, false),
      row('runs per s', ours, (f) => perSecond(f.runs, f.durationMs), theirs, (f) => perSecond(f.runs, f.durationMs), count),
      row('max worker RSS (MB)', ours, (f) => f.maxRssMb, theirs, (f) => f.maxRssMb, count),
    ],
  };
}

function failoverTable(ours: FailoverFigures | undefined, theirs: ReadonlyArray<BullmqFailoverFigures | undefined>): BenchTable {
  const none: Pick<FailoverFigures> | undefined = undefined;
  return {
    title: 'Failover after SIGKILL of a worker mid-run (ms from the kill): zkshard session timeout 5 s; BullMQ tuned: lockDuration = stalledInterval = 5 s',
    columns: COLUMNS,
    rows: [
      row('interrupted fire re-run elsewhere, p50', ours, (f) => f.rerun.p50, theirs, (f) => f.restart.p50, ms),
      row('… p99', ours, (f) => f.rerun.p99, theirs, (f) => f.restart.p99, ms),
      row('… max', ours, (f) => f.rerun.max, theirs, (f) => f.restart.max, ms),
      row('interrupted job runs again elsewhere (any fire), p50', ours, (f) => f.recovery.p50, theirs, (f) => f.nextRun.p50, ms),
      row('… p99', ours, (f) => f.recovery.p99, theirs, (f) => f.nextRun.p99, ms),
      row('… max', ours, (f) => f.recovery.max, theirs, (f) => f.nextRun.max, ms),
      row('kills', ours, (f) => f.kills, theirs, (f) => f.kills, count, false),
      row('interrupted (zkshard: items of killed workers)', ours, (f) => f.recovery.count, theirs, (f) => f.interrupted, count, false),
      row('interrupted fires re-run', ours, (f) => f.rerun.count, theirs, (f) => f.interrupted - f.notRerun, count, false),
      row('fires missed during the phase', ours, none, theirs, (f) => f.misses, count, false),
    ],
  };
}

/** What became of BullMQ's interrupted runs, per setting ("default: 8 of 8 re-run, attemptsStarted 2; …"). */
function failoverOutcome(figures: ReadonlyArray<BullmqFailoverFigures | undefined>): string {
  return figures
    .flatMap((f) => {
      if (!f) return [];
      const attempts = [...new Set(f.interruptions.flatMap((i) => (i.restartAttempt === undefined ? [] : [i.restartAttempt])))].sort();
      const never = f.notRerun > 0 ? `, ${f.notRerun} never within ${ms(f.maxWaitMs / 1000)} s` : '';
      return [`${f.settings.label}: ${f.interrupted - f.notRerun} of ${f.interrupted} re-run${attempts.length ? ` with attemptsStarted ${attempts.join('/')}` : ''}${never}`];
    })
    .join('; ');
}

/** Peer comparison: BullMQ on a local Redis under scenarios 1 and 2, next to our figures of the same run. */
export const peer: Scenario = {
  name: 'peer',
  summary: 'BullMQ 6 on a local Redis (job schedulers every second; SIGKILL mid-run), default and tuned to our session timeout, side by side with ours',
  async run(ctx): Promise<ScenarioResult> {
    const plan = ctx.quick ? QUICK : FULL;
    const ours = await ourFigures(ctx, plan);
    const redis = await startRedisServer(ctx.cleanup, { dir: join(ctx.dir, 'redis') });
    const tuned = bullmqTuned(BENCH_SESSION_TIMEOUT_MS);
    const lateness: Array<BullmqLatenessFigures | undefined> = [];
    const failover: Array<BullmqFailoverFigures | undefined> = [];
    try {
      ctx.log(`redis-server ${redis.version} on 127.0.0.1:${redis.port} (pid ${redis.pid})`);
      for (const settings of [BULLMQ_DEFAULT, tuned]) {
        if (ctx.signal.aborted) break;
        const f = await measureBullmqLateness(ctx, redis, { settings, schedulers: plan.schedulers, workers: plan.workers, concurrency: plan.latenessConcurrency, durationMs: plan.latenessMs, warmupMs: plan.warmupMs });
        ctx.log(`BullMQ ${settings.label}: p50 ${ms(f.lateness.p50)} p99 ${ms(f.lateness.p99)} p99.9 ${ms(f.lateness.p999)} max ${ms(f.lateness.max)} ms; ${f.duplicates} duplicates, ${f.misses} misses`);
        lateness.push(f);
      }
      for (const [settings, kills, budgetMs] of [
        [BULLMQ_DEFAULT, plan.defaultKills, plan.defaultBudgetMs],
        [tuned, plan.tunedKills, plan.tunedBudgetMs],
      ] as const) {
        if (ctx.signal.aborted) break;
        const f = await measureBullmqFailover(ctx, redis, {
          settings,
          schedulers: plan.failoverSchedulers,
          workers: plan.workers,
          concurrency: plan.failoverConcurrency,
          runMs: plan.failoverRunMs,
          killPhaseMs: plan.killPhaseMs,
          kills,
          budgetMs,
        });
        ctx.log(`BullMQ ${settings.label}: ${f.kills} kills, ${f.interrupted} runs interrupted, restarted after p50 ${ms(f.restart.p50)} max ${ms(f.restart.max)} ms, ${f.notRerun} never`);
        failover.push(f);
      }
    } finally {
      await redis.close();
    }
    ctx.signal.throwIfAborted();
    const [latDefault, latTuned] = [lateness[0], lateness[1]];
    const [foDefault, foTuned] = [failover[0], failover[1]];
    return {
      scenario: 'peer',
      params: {
        bullmq: packageVersion('bullmq'),
        ioredis: packageVersion('ioredis'),
        redis: redis.version,
        redisConfig: "--save '' --appendonly no (no persistence), loopback",
        settings: { default: 'BullMQ defaults (lockDuration 30000, stalledInterval 30000, maxStalledCount 1)', tuned },
        lateness: { schedulers: plan.schedulers, pattern: '* * * * * *', workers: plan.workers, concurrency: plan.latenessConcurrency, windowMs: plan.latenessMs, warmupMs: plan.warmupMs, processor: 'no-op (records entry time)' },
        failover: { schedulers: plan.failoverSchedulers, workers: plan.workers, concurrency: plan.failoverConcurrency, runMs: plan.failoverRunMs, killPhaseMs: plan.killPhaseMs, kills: { default: plan.defaultKills, tuned: plan.tunedKills } },
        zkshardFiguresMeasuredByPeer: ours.measuredHere,
      },
      tables: [latenessTable(ours.lateness, [latDefault, latTuned]), failoverTable(ours.failover, [foDefault, foTuned])],
      targets: [],
      data: { zkshard: { lateness: ours.lateness, failover: ours.failover }, bullmq: { lateness: { default: latDefault, tuned: latTuned }, failover: { default: foDefault, tuned: foTuned } } },
      notes: [
        `Load: BullMQ runs 1 job per scheduler per second (${plan.schedulers.toLocaleString('en-US')} runs/s) while zkshard runs 8 items per job (8,000 runs/s), so BullMQ carries ⅛ of zkshard's runs; 8,000 schedulers were not run (they do not fit the 2-core machine or the time budget).`,
        `Concurrency: the no-op lateness processor runs with BullMQ's default concurrency 1 per process (in a 10 s development probe, not this run, 10 gave a similar p99 and 100 a worse one, with misses); the 700 ms failover runs need ${plan.failoverConcurrency} so that ${plan.failoverSchedulers} schedulers' runs start on time with one of ${plan.workers} workers down.`,
        'BullMQ lateness floor: each fire is a delayed job promoted in Redis, fetched by a worker woken through its marker, and costs several Lua round trips (move to active, create the next iteration, move to finished) through one single-threaded Redis shared by all workers.',
        'BullMQ computes a scheduler\'s next fire when its current job is picked up, from "now" if that is late, so overload shows up as skipped fires (misses), not as a growing backlog.',
        'Tuning changes only lock renewal and the stalled check, which a no-op processor never waits on, so the two BullMQ lateness columns are expected to differ by noise only.',
        `Failover load: ${plan.failoverSchedulers} schedulers × ${plan.failoverRunMs} ms runs every second (zkshard: 4 jobs × 8 items), kill ${plan.killPhaseMs} ms after a whole second; the worker first freezes with the list of jobs it runs (blocking its event loop), then is SIGKILLed, so the interrupted runs are known exactly.`,
        'An interrupted BullMQ run restarts only when a stalled check (every stalledInterval, on a job marked by the previous check) finds its lock expired (lockDuration after the last renewal, renewed every lockDuration / 2): between ½ lockDuration and lockDuration + stalledInterval after the kill.',
        "BullMQ has no owner per scheduler: an interrupted scheduler's next job already waits in Redis and runs on a survivor at its next fire, whereas a zkshard item waits for its dead owner's session to expire; only the interrupted run itself waits for BullMQ's stall detection.",
        `Interrupted job-scheduler runs are not failed by maxStalledCount (BullMQ exempts them): ${failoverOutcome(failover)}.`,
        'Redis ran without persistence (no RDB, no AOF), which favours BullMQ: zkshard\'s ZooKeeper fsyncs every write.',
        ...lateness.flatMap((f) => (f && f.offGridFires > 0 ? [`BullMQ ${f.settings.label}: ${f.offGridFires} runs had a scheduled fire time off the whole second: the fire time read from the job (opts.prevMillis) is suspect.`] : [])),
        ...(ctx.quick ? [`Quick mode: ${plan.latenessMs / 1000} s lateness windows, ${plan.defaultKills} default and ${plan.tunedKills} tuned kills; a smoke check, not figures to publish.`] : []),
        ...(ours.measuredHere.length > 0 ? [`zkshard's ${ours.measuredHere.join(' and ')} figures were measured by this scenario (the ${ours.measuredHere.join('/')} scenario did not run first).`] : []),
      ],
    };
  },
};
