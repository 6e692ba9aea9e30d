import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import type { RecordedRun } from '../../src/executor/run-recorder.js';
import { openHistoryPool } from '../../src/history/history-db.js';
import { HistoryWriter } from '../../src/history/history-writer.js';
import { migrate } from '../../src/history/migrations.js';
import { dayOf, ensurePartitions } from '../../src/history/run-partitions.js';
import { queryRuns, runQuerySql, type RunFilter } from '../../src/history/run-query.js';
import { findPostgres } from '../../src/testing/find-postgres.js';
import { createDatabase } from '../../src/testing/postgres-database.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { readRunRecords } from '../lib/run-records.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { treeCpuSeconds } from '../lib/process-cpu.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { measureLateness, type LatenessFigures, type LatenessOptions } from './lateness.js';

const DAY_MS = 86_400_000;
/** PRODUCT.md / issue 12: the rate the writer must keep up with, and the query time at 10 M rows. */
const TARGET_RATE = 8000;
const TARGET_QUERY_MS = 100;

interface Plan {
  /** Runs offered per second to one writer, and for how long. */
  rate: number;
  offerMs: number;
  /** Rows buffered at once, then written as fast as the writer can (its ceiling). */
  burstRows: number;
  /** Rows of the table the queries run on (100 jobs × 8 items, spread over 10 days). */
  tableRows: number;
  /** Timed queries per shape (after one untimed). */
  samples: number;
  /** The fleet whose fire lateness is measured with history off and on. */
  fleet: LatenessOptions;
}

const PLANS: Record<'quick' | 'full', Plan> = {
  quick: { rate: TARGET_RATE, offerMs: 10_000, burstRows: 100_000, tableRows: 200_000, samples: 15, fleet: { jobs: 100, items: 8, workers: 2, durationMs: 10_000 } },
  full: { rate: TARGET_RATE, offerMs: 60_000, burstRows: 500_000, tableRows: 10_000_000, samples: 50, fleet: { jobs: 1000, items: 8, workers: 4, durationMs: 30_000 } },
};

interface WriterFigures {
  offered: number;
  written: number;
  dropped: number;
  /** Offered rows / offering time. */
  offeredPerSec: number;
  /** Rows written / (offering time + time until the last was written): below `offeredPerSec` by the last flush's wait. */
  writtenPerSec: number;
  /** `offeredPerSec` when the writer kept up (everything written within 2 flush intervals of the last offer, buffer never beyond 2 s of runs, none dropped), else `writtenPerSec`. */
  sustainedPerSec: number;
  /** From the last offer until the buffer was empty, ms. */
  drainMs: number;
  maxBuffered: number;
  /** Event loop delay of the process that offers and writes (what a worker's firing path would see), ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** The same, offering to a recorder that discards (no writer), before: the machine's own noise. */
  baselineLoopDelay: { p50: number; p99: number; max: number };
  burst: { rows: number; ms: number; rowsPerSec: number; dropped: number };
  /**
   * CPU while the runs were offered, in cores (CPU seconds per second): the offering process with
   * no writer (baseline) and with it, and PostgreSQL (postmaster and backends; undefined when the
   * server is not the bench's own).
   */
  cpu: { baselineCores: number; offeringCores: number; postgresCores?: number };
}

interface QueryFigures {
  rows: number;
  partitions: number;
  fillMs: number;
  shapes: Array<{ shape: string; index: string; rowsReturned: number; ms: Summary }>;
}

interface FleetFigures extends LatenessFigures {
  history: boolean;
  /** Handler entries (whole run) and the rows of them in PostgreSQL (history on). */
  handlerRuns: number;
  recordedRuns?: number;
}

/** A bench logger: warnings and errors to the progress log, the rest dropped. */
function benchLogger(ctx: ScenarioContext): Logger {
  return pino({ level: 'warn' }, { write: (line: string) => ctx.log(`history writer: ${(JSON.parse(line) as { msg: string }).msg}`) });
}


/** Run `n` of a stream of 1,000 jobs × 8 items firing every second from `t0`. */
function runAt(n: number, t0: number): RecordedRun {
  const item = n % 8;
  const job = `job-${String(Math.floor(n / 8) % 1000).padStart(4, '0')}`;
  const fireTime = new Date(t0 + Math.floor(n / 8000) * 1000);
  const startedAt = new Date(fireTime.getTime() + 2);
  return {
    job, item, fireTime, fireId: `${job}@${fireTime.toISOString()}#${item}`, attempt: 1, worker: 'bench-w1', member: 'm-0000000001',
    fencingToken: String(4294967296 + n), reason: 'schedule', startedAt, endedAt: new Date(startedAt.getTime() + 5), durationMs: 5,
    outcome: n % 100 === 7 ? 'failed' : 'success', ...(n % 100 === 7 ? { error: 'Error: bench failure' } : {}),
  };
}

/**
 * One writer (default options: buffer 100,000, batches of 5,000, flushed every second) offered
 * `rate` runs a second in 20 ticks a second for `offerMs`; then `burstRows` buffered at once and
 * written as fast as it can.
 */
/** Offers `rate` runs a second to `recorder`, in 20 ticks a second, for `durationMs`; returns how many. */
async function offer(ctx: ScenarioContext, record: (run: RecordedRun) => void, rate: number, durationMs: number, t0Ms: number, after: () => void = () => {}): Promise<number> {
  const tickMs = 50;
  const perTick = Math.round((rate * tickMs) / 1000);
  const t0 = performance.now();
  let offered = 0;
  for (let k = 0; k * tickMs < durationMs && !ctx.signal.aborted; k++) {
    const wait = t0 + k * tickMs - performance.now();
    if (wait > 0) await sleep(wait);
    for (let i = 0; i < perTick; i++) record(runAt(offered++, t0Ms));
    after();
  }
  return offered;
}

/** CPU seconds per second of wall time, from a `process.cpuUsage` difference (µs) over `wallMs`. */
function cores(used: NodeJS.CpuUsage, wallMs: number): number {
  return (used.user + used.system) / 1000 / wallMs;
}

/** Event loop delay percentiles in ms. */
function delayOf(h: ReturnType<typeof monitorEventLoopDelay>): { p50: number; p99: number; max: number } {
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

async function measureWriter(ctx: ScenarioContext, url: string, p: Plan, postgresPid: number | undefined): Promise<WriterFigures> {
  const log = benchLogger(ctx);
  const baseline = monitorEventLoopDelay({ resolution: 5 });
  baseline.enable();
  const b0 = { cpu: process.cpuUsage(), at: performance.now() };
  await offer(ctx, () => {}, p.rate, Math.min(p.offerMs, 10_000), Date.now());
  const baselineCores = cores(process.cpuUsage(b0.cpu), performance.now() - b0.at);
  baseline.disable();
  const setup = openHistoryPool(url, log);
  await migrate(setup);
  const now = Date.now();
  await ensurePartitions(setup, [dayOf(now), dayOf(now) + DAY_MS, dayOf(now) + 2 * DAY_MS]);
  await setup.end();
  const writer = new HistoryWriter({ pool: openHistoryPool(url, log), log, migrate: false });
  const unregister = ctx.cleanup.add('history writer', () => writer.close({ timeoutMs: 0 }));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let offered = 0;
  // (offer() above only measured the loop: its runs went nowhere.)
  let maxBuffered = 0;
  try {
    await writer.start();
    delay.enable();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const pg0 = postgresPid === undefined ? undefined : treeCpuSeconds(postgresPid);
    offered = await offer(ctx, (run) => writer.record(run), p.rate, p.offerMs, now, () => (maxBuffered = Math.max(maxBuffered, writer.buffered)));
    const offeredAt = performance.now();
    await waitFor(() => writer.buffered === 0, { timeoutMs: 120_000, intervalMs: 5, signal: ctx.signal, message: 'the writer to write what was offered' });
    const drainMs = performance.now() - offeredAt;
    // Before the writer's pool closes: its backends' time is counted while they live.
    const spanMs = performance.now() - t0;
    const cpu = {
      baselineCores,
      offeringCores: cores(process.cpuUsage(cpu0), spanMs),
      ...(pg0 === undefined ? {} : { postgresCores: (treeCpuSeconds(postgresPid!) - pg0) / (spanMs / 1000) }),
    };
    ctx.log(`writer: CPU in cores — offering with no writer ${cpu.baselineCores.toFixed(2)}, with the writer ${cpu.offeringCores.toFixed(2)}, PostgreSQL ${cpu.postgresCores?.toFixed(2) ?? 'not measured'}`);
    delay.disable();
    const written = writer.written;
    const dropped = writer.dropped;
    ctx.log(`writer: ${offered} offered in ${ms(offeredAt - t0)} ms, ${written} written, ${dropped} dropped, last written ${ms(drainMs)} ms after the last offer, at most ${maxBuffered} buffered`);
    await writer.close();
    unregister();

    const burst = new HistoryWriter({ pool: openHistoryPool(url, log), log, migrate: false, bufferSize: p.burstRows });
    const unregisterBurst = ctx.cleanup.add('history writer (burst)', () => burst.close({ timeoutMs: 0 }));
    const b0 = now + 3_600_000; // an hour on: other rows than the steady stream's
    for (let n = 0; n < p.burstRows; n++) {
      burst.record(runAt(n, b0));
      if (n % 50_000 === 0) await nextTurn();
    }
    const s0 = performance.now();
    await burst.start();
    await waitFor(() => burst.buffered === 0, { timeoutMs: 300_000, intervalMs: 5, signal: ctx.signal, message: 'the writer to write the burst' });
    const burstMs = performance.now() - s0;
    const burstDropped = burst.dropped;
    await burst.close();
    unregisterBurst();
    ctx.log(`writer: a burst of ${p.burstRows} rows written in ${ms(burstMs)} ms`);
    const offeredPerSec = Math.round(offered / ((offeredAt - t0) / 1000));
    const writtenPerSec = Math.round(written / ((offeredAt - t0 + drainMs) / 1000));
    const keptUp = dropped === 0 && written === offered && drainMs <= 2000 && maxBuffered <= 2 * p.rate;
    return {
      offered, written, dropped, drainMs, maxBuffered, offeredPerSec, writtenPerSec,
      sustainedPerSec: keptUp ? offeredPerSec : writtenPerSec,
      loopDelay: delayOf(delay),
      baselineLoopDelay: delayOf(baseline),
      cpu,
      burst: { rows: p.burstRows, ms: burstMs, rowsPerSec: Math.round(p.burstRows / (burstMs / 1000)), dropped: burstDropped },
    };
  } finally {
    delay.disable();
    await writer.close({ timeoutMs: 0 });
  }
}

const Q_JOBS = 100;
const Q_ITEMS = 8;
const Q_SPAN_MS = 10 * DAY_MS;

/** Outcome of generated row (s, j, i): 1 % failed, 0.2 % timeout, 0.5 % missed, 0.2 % skipped, else success. */
const OUTCOME_SQL = `CASE WHEN h < 10 THEN 'failed' WHEN h < 12 THEN 'timeout' WHEN h < 17 THEN 'missed' WHEN h < 19 THEN 'skipped' ELSE 'success' END`;

/**
 * Fills a table with `rows` rows (100 jobs × 8 items, instants spread evenly over 10 days, so about
 * 11 day partitions), generated server-side (the writer's rate is measured apart), then times the
 * queries of `zkctl runs` (queryRuns, limit 100) and a fire id lookup, `samples` of each.
 */
async function measureQueries(ctx: ScenarioContext, url: string, p: Plan): Promise<QueryFigures> {
  const pool = openHistoryPool(url, benchLogger(ctx), { max: 1, queryTimeoutMs: 1_800_000 });
  ctx.cleanup.add('history query pool', () => pool.end().catch(() => undefined));
  await migrate(pool);
  const perInstant = Q_JOBS * Q_ITEMS;
  const instants = Math.ceil(p.tableRows / perInstant);
  const stepMs = Math.max(1000, Math.floor(Q_SPAN_MS / instants / 1000) * 1000);
  const newest = Math.floor(Date.now() / 60_000) * 60_000;
  const oldest = newest - (instants - 1) * stepMs;
  const days: number[] = [];
  for (let d = dayOf(oldest); d <= dayOf(newest); d += DAY_MS) days.push(d);
  await ensurePartitions(pool, days);
  const t0 = performance.now();
  const chunk = Math.max(1, Math.floor(500_000 / perInstant));
  for (let s = 0; s < instants && !ctx.signal.aborted; s += chunk) {
    await pool.query(
      `INSERT INTO zkshard_runs (id, job, item, fire_time, fire_id, attempt, worker, member, fencing_token, reason, started_at, ended_at, duration_ms, outcome, error, fires)
       SELECT gen_random_uuid(), job, i, ft, job || '@' || to_char(ft AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '#' || i,
              1, 'w' || (j % 4 + 1), 'm-000000000' || (j % 4 + 1), 4294967296 + s * 800 + j * 8 + i, 'schedule',
              ft + interval '2 ms', ft + interval '7 ms', 5, ${OUTCOME_SQL}, CASE WHEN h < 12 THEN 'Error: bench failure' END, 1
       FROM generate_series($1::int, $2::int) s, generate_series(0, ${Q_JOBS - 1}) j, generate_series(0, ${Q_ITEMS - 1}) i,
            LATERAL (SELECT 'job-' || lpad(j::text, 4, '0') AS job, to_timestamp(($3::bigint + s::bigint * $4::bigint) / 1000.0) AS ft,
                            abs(hashint4(s * 7919 + j * 104729 + i)) % 1000 AS h) g`,
      [s, Math.min(instants, s + chunk) - 1, oldest, stepMs],
    );
    if (Math.floor(s / chunk) % 4 === 3) ctx.log(`queries: ${((s + chunk) * perInstant).toLocaleString('en-US')} of ${(instants * perInstant).toLocaleString('en-US')} rows`);
  }
  await pool.query('ANALYZE zkshard_runs');
  const fillMs = performance.now() - t0;
  const rows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM zkshard_runs')).rows[0]!.n);
  ctx.log(`queries: ${rows.toLocaleString('en-US')} rows in ${days.length} partitions, filled in ${ms(fillMs)} ms`);

  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const job = () => `job-${String(rand(Q_JOBS)).padStart(4, '0')}`;
  const fireIdAt = (): string => {
    const ft = new Date(oldest + rand(instants) * stepMs).toISOString();
    return `${job()}@${ft}#${rand(Q_ITEMS)}`;
  };
  const shapes: Array<[string, () => RunFilter | string]> = [
    ['zkctl runs <job>', () => ({ job: job() })],
    ['zkctl runs <job> --item N', () => ({ job: job(), item: rand(Q_ITEMS) })],
    ['zkctl runs <job> --since 1d', () => ({ job: job(), since: new Date(newest - DAY_MS) })],
    ['zkctl runs --outcome failed', () => ({ outcome: 'failed' })],
    ['zkctl runs --outcome missed --since 1d', () => ({ outcome: 'missed', since: new Date(newest - DAY_MS) })],
    ['zkctl runs (all jobs)', () => ({})],
    ['fire id', fireIdAt],
  ];
  const FIRE_ID_SQL = `SELECT job, item, fire_time, fire_id, attempt, worker, outcome, error FROM zkshard_runs WHERE fire_id = $1`;
  const out: QueryFigures['shapes'] = [];
  for (const [shape, next] of shapes) {
    if (ctx.signal.aborted) break;
    const run = async (q: RunFilter | string): Promise<number> =>
      typeof q === 'string' ? (await pool.query(FIRE_ID_SQL, [q])).rowCount ?? 0 : (await queryRuns(pool, q)).length;
    const first = next();
    const { text, values } = typeof first === 'string' ? { text: FIRE_ID_SQL, values: [first] } : runQuerySql(first);
    const plan = (await pool.query(`EXPLAIN ${text}`, values)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    const indexes = [...new Set([...plan.matchAll(/using (\w+)/gi)].map((m) => m[1]!.replace(/^zkshard_runs_p\d+_/, '')))];
    const index = /Seq Scan/.test(plan) ? `SEQ SCAN ${indexes.join(', ')}` : indexes.join(', ') || '?';
    await run(first);
    const times: number[] = [];
    let returned = 0;
    for (let k = 0; k < p.samples && !ctx.signal.aborted; k++) {
      const q = next();
      const t = performance.now();
      returned = await run(q);
      times.push(performance.now() - t);
    }
    const summary = summarize(times);
    ctx.log(`queries: ${shape}: p50 ${ms(summary.p50)} max ${ms(summary.max)} ms (${index})`);
    out.push({ shape, index, rowsReturned: returned, ms: summary });
  }
  await pool.end();
  return { rows, partitions: days.length, fillMs, shapes: out };
}

/** Fire lateness of the fleet, history off then on; with history, the runs its handlers saw are counted in PostgreSQL. */
async function measureFleet(ctx: ScenarioContext, serverUrl: string, p: Plan): Promise<FleetFigures[]> {
  const out: FleetFigures[] = [];
  for (const history of [false, true]) {
    if (ctx.signal.aborted) break;
    const dir = join(ctx.dir, history ? 'fleet-history-on' : 'fleet-history-off');
    const url = history ? await createDatabase(serverUrl, 'bench_fleet') : undefined;
    const f = await measureLateness({ ...ctx, dir }, p.fleet, url ? { history: { postgresUrl: url } } : {});
    const handlerRuns = readRunRecords(join(dir, `lateness-${p.fleet.jobs}`)).length;
    let recordedRuns: number | undefined;
    if (url) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        recordedRuns = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM zkshard_runs WHERE started_at IS NOT NULL`)).rows[0]!.n);
      } finally {
        await client.end();
      }
    }
    ctx.log(`fleet, history ${history ? 'on' : 'off'}: p50 ${ms(f.lateness.p50)} p99 ${ms(f.lateness.p99)} max ${ms(f.lateness.max)} ms; ${f.misses} misses, ${f.duplicates} duplicates${recordedRuns === undefined ? '' : `; ${recordedRuns} of ${handlerRuns} handler runs in PostgreSQL`}`);
    out.push({ ...f, history, handlerRuns, ...(recordedRuns === undefined ? {} : { recordedRuns }) });
  }
  return out;
}

/** Issue 12: the run history's writer rate, its query times, and fire lateness with it on and off. */
export const history: Scenario = {
  name: 'history',
  summary: 'run history in PostgreSQL: writer rate at 8,000 runs/s offered, zkctl runs query times on a large table, fire lateness with history off vs on',
  async run(ctx): Promise<ScenarioResult> {
    const p = PLANS[ctx.quick ? 'quick' : 'full'];
    const pgServer = await findPostgres({ env: {}, log: ctx.log });
    ctx.cleanup.add('postgresql', () => pgServer.close());
    const version = (await (async () => {
      const c = new pg.Client({ connectionString: pgServer.url });
      await c.connect();
      try {
        return (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      } finally {
        await c.end();
      }
    })()).split(' ')[0]!;
    ctx.log(`PostgreSQL ${version} at ${pgServer.url}`);
    const writer = await measureWriter(ctx, await createDatabase(pgServer.url, 'bench_writer'), p, pgServer.server?.pid);
    const queries = await measureQueries(ctx, await createDatabase(pgServer.url, 'bench_queries'), p);
    const fleet = await measureFleet(ctx, pgServer.url, p);
    const slowest = Math.max(...queries.shapes.map((s) => s.ms.max));
    const fleetOn = fleet.find((f) => f.history);
    return {
      scenario: 'history',
      params: { ...p, postgres: version, server: 'throw-away local server (fsync off, synchronous_commit off)', writer: 'HistoryWriter defaults: buffer 100,000, batch 5,000, flush every 1 s' },
      tables: [
        {
          title: `Writer: ${p.rate.toLocaleString('en-US')} runs/s offered for ${p.offerMs / 1000} s, then a burst written as fast as it goes`,
          columns: ['offered', 'offered/s', 'written', 'dropped', 'max buffered', 'last row written after last offer', 'sustained rows/s', 'burst rows', 'burst rows/s'],
          rows: [[writer.offered, writer.offeredPerSec, writer.written, writer.dropped, writer.maxBuffered, `${ms(writer.drainMs)} ms`, writer.sustainedPerSec, writer.burst.rows, writer.burst.rowsPerSec]],
        },
        {
          title: 'Event loop delay of the offering process (ms): what the writer costs a worker\'s firing path',
          columns: ['', 'p50', 'p99', 'max'],
          rows: [
            ['offering to no writer (baseline)', ms(writer.baselineLoopDelay.p50), ms(writer.baselineLoopDelay.p99), ms(writer.baselineLoopDelay.max)],
            ['offering to the writer', ms(writer.loopDelay.p50), ms(writer.loopDelay.p99), ms(writer.loopDelay.max)],
          ],
        },
        {
          title: `CPU while ${p.rate.toLocaleString('en-US')} runs/s were offered and written (cores: CPU seconds per second)`,
          columns: ['process', 'cores'],
          rows: [
            ['offering process, no writer (baseline)', writer.cpu.baselineCores.toFixed(2)],
            ['offering process with the writer (encoding, sending)', writer.cpu.offeringCores.toFixed(2)],
            ['PostgreSQL (postmaster and backends: parsing, inserting, indexing)', writer.cpu.postgresCores?.toFixed(2) ?? 'not measured (not the bench\'s own server)'],
          ],
        },
        {
          title: `zkctl runs on ${queries.rows.toLocaleString('en-US')} rows (${queries.partitions} day partitions; limit 100; ${p.samples} queries each, warm)`,
          columns: ['query', 'index', 'rows', 'p50', 'p99', 'max'],
          rows: queries.shapes.map((s) => [s.shape, s.index, s.rowsReturned, `${ms(s.ms.p50)} ms`, `${ms(s.ms.p99)} ms`, `${ms(s.ms.max)} ms`]),
        },
        {
          title: `Fire lateness: ${p.fleet.jobs} jobs × ${p.fleet.items} items every second, ${p.fleet.workers} workers, ${p.fleet.durationMs / 1000} s window (handler entry − fire time, ms)`,
          columns: ['history', 'runs', 'p50', 'p99', 'p99.9', 'max', 'misses', 'duplicates', 'handler runs / rows in PostgreSQL', `machine CPU busy (cores of ${availableParallelism()})`],
          rows: fleet.map((f) => [f.history ? 'on' : 'off', f.runs, ms(f.lateness.p50), ms(f.lateness.p99), ms(f.lateness.p999), ms(f.lateness.max), f.misses, f.duplicates, f.recordedRuns === undefined ? '–' : `${f.handlerRuns} / ${f.recordedRuns}`, f.busyCores.toFixed(2)]),
        },
      ],
      targets: [
        { what: `runs written at ${p.rate.toLocaleString('en-US')} runs/s offered, none dropped`, target: `≥ ${TARGET_RATE.toLocaleString('en-US')}/s, 0 dropped`, measured: `${writer.sustainedPerSec}/s (all ${writer.written} written ${ms(writer.drainMs)} ms after the last offer, at most ${writer.maxBuffered} buffered), ${writer.dropped} dropped`, met: writer.dropped === 0 && writer.written === writer.offered && writer.sustainedPerSec >= TARGET_RATE * 0.98 },
        { what: `slowest zkctl runs query on ${queries.rows.toLocaleString('en-US')} rows`, target: `≤ ${TARGET_QUERY_MS} ms${ctx.quick ? ' (at 10 M rows; quick run: fewer)' : ''}`, measured: `${ms(slowest)} ms`, met: slowest <= TARGET_QUERY_MS },
        ...(fleetOn?.recordedRuns !== undefined ? [{ what: 'every run the fleet\'s handlers saw is in PostgreSQL', target: 'all', measured: `${fleetOn.recordedRuns} of ${fleetOn.handlerRuns}`, met: fleetOn.recordedRuns === fleetOn.handlerRuns }] : []),
      ],
      data: { writer, queries, fleet },
      notes: [
        'PostgreSQL is the bench\'s throw-away local server (Debian\'s package, started by the bench): fsync and synchronous_commit off, so commits cost no disk flush (one per 5,000-row batch on a real server).',
        'The query table is filled server-side (generate_series), not through the writer; queries are timed warm, from the bench process over loopback, including reading the rows.',
        ...(ctx.quick ? ['Quick run: 10 s of offering, 200,000-row table, 10 s lateness windows; figures not for comparing with the full run.'] : []),
      ],
    };
  },
};
