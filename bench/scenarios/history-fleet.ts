import { join } from 'node:path';
import pg from 'pg';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { readProgress } from '../../src/model/progress-record.js';
import { createDatabase } from '../../src/testing/postgres-database.js';
import { PostgresServer } from '../../src/testing/postgres-server.js';
import { BenchFleet } from '../lib/bench-fleet.js';
import { startBenchZooKeeper } from '../lib/bench-zookeeper.js';
import { readRunRecords, type RunRecord } from '../lib/run-records.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { ms, summarize, type Summary } from '../lib/stats.js';
import { workerMetric } from '../lib/worker-metric.js';
import { benchJobs } from './lateness.js';

/** When each fault happens, from the start of the run (ms), and how long it lasts. */
interface Plan {
  jobs: number;
  items: number;
  workers: number;
  durationMs: number;
  killAtMs: number;
  restartAtMs: number;
  drainAtMs: number;
  undrainAtMs: number;
  pgDownAtMs: number;
  pgDownMs: number;
}

const PLANS: Record<'quick' | 'full', Plan> = {
  quick: { jobs: 10, items: 4, workers: 3, durationMs: 60_000, killAtMs: 10_000, restartAtMs: 18_000, drainAtMs: 25_000, undrainAtMs: 35_000, pgDownAtMs: 40_000, pgDownMs: 10_000 },
  full: { jobs: 20, items: 4, workers: 3, durationMs: 300_000, killAtMs: 60_000, restartAtMs: 90_000, drainAtMs: 150_000, undrainAtMs: 200_000, pgDownAtMs: 230_000, pgDownMs: 20_000 },
};

/** A row of `zkshard_runs` as the check reads it. */
interface StoredRun {
  job: string;
  item: number;
  fire: number;
  attempt: number;
  worker: string;
  token: string | null;
  outcome: string;
  /** Fires the row stands for (a note not stored one row per fire: this one and the earlier ones). */
  fires: number;
}

export interface HistoryFleetFigures {
  plan: Plan;
  /** Handler entries (each a run the history must hold). */
  handlerRuns: number;
  /** Of them: found exactly once, with outcome success, the same attempt, worker and token. */
  matched: number;
  /** Entries of the SIGKILLed worker in its last 1.5 s (its last second may be lost: documented), not found. */
  excusedLost: number;
  /** Entries not found (not excused). */
  lost: number;
  /** Entries found with another outcome, attempt or token. */
  wrong: number;
  /** Rows of a run stored more than once. */
  duplicates: number;
  /** Success rows no handler entry accounts for. */
  phantoms: number;
  /** Item-seconds of the checked span with neither a run nor a missed/skipped row. */
  uncovered: number;
  /** The first of them (`job#item@fire`), to look up in the kept worker logs. */
  uncoveredFirst: string[];
  /**
   * Of them: fires the SIGKILLed worker ran in its last second, by its handler's records (the runs
   * counted in `excusedLost`) or by ZooKeeper's (an item record naming it as the fire's completer,
   * read every 250 ms): they ran, and their rows went with that last second (documented). Since
   * run protocol 2 a scheduled success is written to its worker's ledger only, not to the item's
   * record, so the handler's records are what shows most of them.
   */
  uncoveredRanOnKilled: number;
  /** Missed rows (fires recorded as not run). */
  missedRows: number;
  /** `zkshard_history_dropped_total` summed over the workers (read before each stop). */
  dropped: number;
  /** Fire lateness of fires due while PostgreSQL was down, and over the same span just before it. */
  latenessDuringOutage: Summary;
  latenessBefore: Summary;
}

/**
 * Issue 12's completeness check on a live fleet: `jobs` × `items` every second on `workers`
 * workers with history in a real PostgreSQL, a worker SIGKILLed (and restarted), another drained
 * (and undrained), PostgreSQL stopped for `pgDownMs`; then every handler entry must be in
 * `zkshard_runs` exactly once with its attempt, worker and fencing token, every item-second of the
 * run must have a run or a missed row, and nothing may have been dropped.
 */
async function runHistoryFleet(ctx: ScenarioContext, p: Plan): Promise<HistoryFleetFigures> {
  const postgres = new PostgresServer();
  await postgres.start();
  ctx.cleanup.add('postgresql', () => postgres.close());
  const url = await createDatabase(postgres.url(), 'bench_history_fleet');
  const zk = await startBenchZooKeeper(ctx.cleanup, join(ctx.dir, 'zk'));
  const dir = join(ctx.dir, 'fleet');
  const fleet = new BenchFleet({ connect: zk.connectString, namespace: 'bench', dir, jobs: benchJobs(p.jobs, p.items, '* * * * * *', 50), workers: p.workers, http: true, history: { postgresUrl: url } }, ctx.cleanup);
  let dropped = 0;
  const readDropped = (id: string) => workerMetric(fleet.httpPort(id)!, 'zkshard_history_dropped_total');
  let killedAt = 0;
  let pgDown: [number, number] = [0, 0];
  /** `job item fire` → the worker ZooKeeper showed completing it (items' `lastCompleted`, polled). */
  const completions = new Map<string, string>();
  let poller: { stop(): Promise<void> } | undefined;
  try {
    await fleet.start();
    await fleet.waitSteady(60_000, ctx.signal);
    poller = pollCompletions(fleet, p, completions);
    const t0 = Date.now();
    ctx.log(`${p.jobs} jobs × ${p.items} items on ${p.workers} workers, history on; ${p.durationMs / 1000} s with a SIGKILL, a drain and ${p.pgDownMs / 1000} s of PostgreSQL down`);
    const until = async (atMs: number) => sleepUnlessAborted(Math.max(0, t0 + atMs - Date.now()), ctx.signal);
    const ops = new FleetOperator(fleet.zk, fleet.paths);
    await until(p.killAtMs);
    dropped += await readDropped('w1');
    fleet.signal('w1', 'SIGKILL');
    killedAt = Date.now();
    ctx.log('w1 SIGKILLed');
    await until(p.restartAtMs);
    fleet.startWorker('w1');
    ctx.log('w1 started again');
    await until(p.drainAtMs);
    await ops.drain('w2');
    await ops.waitForDrain('w2', { timeoutMs: 30_000 });
    ctx.log('w2 drained');
    await until(p.undrainAtMs);
    await ops.undrain('w2');
    await until(p.pgDownAtMs);
    await postgres.stop();
    pgDown = [Date.now(), 0];
    ctx.log('PostgreSQL stopped');
    await until(p.pgDownAtMs + p.pgDownMs);
    await postgres.start();
    pgDown[1] = Date.now();
    ctx.log('PostgreSQL started again');
    await until(p.durationMs);
    for (const id of fleet.ids) if (fleet.alive(id)) dropped += await readDropped(id);
    await poller.stop();
    await fleet.close(); // SIGTERM: every worker drains and flushes its history
  } finally {
    await poller?.stop();
    await fleet.close();
    await zk.close();
  }
  const entries = readRunRecords(dir);
  const stored = await readStored(url);
  await postgres.close();
  return tally(p, entries, stored, killedAt, pgDown, dropped, completions);
}

/**
 * Reads every item's record every 250 ms and notes which worker completed which fire
 * (`lastCompleted`, `worker`): a fire the SIGKILLed worker completed stays its `lastCompleted`
 * until the item's next owner takes it over, seconds later, so none is missed.
 */
function pollCompletions(fleet: BenchFleet, p: Plan, into: Map<string, string>): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(
        benchJobs(p.jobs, p.items).flatMap((job) =>
          Array.from({ length: p.items }, async (_, item) => {
            const path = fleet.paths.item(job.name, item);
            const got = await fleet.zk.getDataIfExists(path).catch(() => null);
            const d = got ? readProgress(got.data, path) : undefined;
            if (d?.ok && d.value.lastCompleted && d.value.worker) into.set(`${job.name} ${item} ${Date.parse(d.value.lastCompleted)}`, d.value.worker);
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function readStored(url: string): Promise<StoredRun[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ job: string; item: number; fire: string; attempt: number; worker: string; token: string | null; outcome: string; fires: number }>(
      'SELECT job, item, (extract(epoch FROM fire_time) * 1000)::bigint AS fire, attempt, worker, fencing_token::text AS token, outcome, fires FROM zkshard_runs',
    );
    return res.rows.map((r) => ({ ...r, fire: Number(r.fire) }));
  } finally {
    await client.end();
  }
}

function tally(p: Plan, entries: readonly RunRecord[], stored: readonly StoredRun[], killedAt: number, pgDown: [number, number], dropped: number, completions: ReadonlyMap<string, string>): HistoryFleetFigures {
  const runKey = (job: string, item: number, fire: number, attempt: number, worker: string) => `${job} ${item} ${fire} ${attempt} ${worker}`;
  const rows = new Map<string, StoredRun[]>();
  for (const r of stored) {
    if (r.outcome === 'missed' || r.outcome === 'skipped') continue;
    const k = runKey(r.job, r.item, r.fire, r.attempt, r.worker);
    rows.set(k, [...(rows.get(k) ?? []), r]);
  }
  let matched = 0;
  let excusedLost = 0;
  /** `job item fire` of the runs counted in `excusedLost`. */
  const ranOnKilled = new Set<string>();
  let lost = 0;
  let wrong = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    const k = runKey(e.job, e.item, e.fire, e.attempt, e.worker);
    seen.add(k);
    const found = rows.get(k);
    if (!found) {
      if (e.worker === 'w1' && e.entry <= killedAt && e.entry > killedAt - 1500) {
        excusedLost++;
        ranOnKilled.add(`${e.job} ${e.item} ${e.fire}`);
      } else lost++;
      continue;
    }
    if (found[0]!.outcome === 'success' && found[0]!.token === e.token) matched++;
    else wrong++;
  }
  const duplicates = [...rows.values()].reduce((n, v) => n + v.length - 1, 0);
  const phantoms = [...rows.entries()].filter(([k, v]) => !seen.has(k) && v[0]!.outcome === 'success').length;
  // Every item-second from the first fire any handler saw to 5 s before the end: a run or a note.
  const fires = entries.map((e) => e.fire);
  const first = Math.min(...fires);
  const last = Math.max(...fires) - 5000;
  // (Every-second jobs: a row standing for several fires covers the seconds before its own.)
  const covered = new Set(stored.flatMap((r) => Array.from({ length: Math.max(1, r.fires) }, (_, k) => `${r.job} ${r.item} ${r.fire - k * 1000}`)));
  let uncovered = 0;
  let uncoveredRanOnKilled = 0;
  const uncoveredFirst: string[] = [];
  for (const job of benchJobs(p.jobs, p.items)) {
    for (let item = 0; item < p.items; item++) {
      for (let f = first; f <= last; f += 1000) {
        if (covered.has(`${job.name} ${item} ${f}`)) continue;
        uncovered++;
        const key = `${job.name} ${item} ${f}`;
        if (ranOnKilled.has(key) || (completions.get(key) === 'w1' && Math.abs(f - killedAt) < 2000)) uncoveredRanOnKilled++;
        if (uncoveredFirst.length < 50) uncoveredFirst.push(`${job.name}#${item}@${new Date(f).toISOString()}`);
      }
    }
  }
  const lateness = (from: number, to: number) => summarize(entries.filter((e) => e.fire >= from && e.fire < to && e.attempt === 1).map((e) => e.entry - e.fire));
  const [down, up] = pgDown;
  return {
    plan: p,
    handlerRuns: entries.length,
    matched,
    excusedLost,
    lost,
    wrong,
    duplicates,
    phantoms,
    uncovered,
    uncoveredFirst,
    uncoveredRanOnKilled,
    missedRows: stored.filter((r) => r.outcome === 'missed').length,
    dropped,
    latenessDuringOutage: lateness(down, up),
    latenessBefore: lateness(down - (up - down), down),
  };
}

/** Issue 12: every run of a live fleet with faults is in PostgreSQL exactly once. */
export const historyFleet: Scenario = {
  name: 'history-fleet',
  summary: 'run history completeness on a live fleet: a SIGKILL, a drain and PostgreSQL down for 20 s in 5 minutes; every handler run in PostgreSQL once',
  async run(ctx): Promise<ScenarioResult> {
    const p = PLANS[ctx.quick ? 'quick' : 'full'];
    const f = await runHistoryFleet(ctx, p);
    if (f.uncovered > 0) ctx.log(`item-seconds with neither a run nor a note: ${f.uncoveredFirst.slice(0, 20).join(', ')}`);
    ctx.log(`${f.matched} of ${f.handlerRuns} runs stored exactly (${f.excusedLost} of the killed worker's last second lost, ${f.lost} lost, ${f.wrong} wrong, ${f.duplicates} duplicates, ${f.phantoms} phantoms), ${f.uncovered} item-seconds uncovered, ${f.dropped} dropped`);
    return {
      scenario: 'history-fleet',
      params: { ...p },
      tables: [
        {
          title: 'Handler runs against the rows of zkshard_runs',
          columns: ['handler runs', 'stored exactly', 'lost (killed worker, last 1.5 s)', 'lost', 'wrong', 'duplicate rows', 'phantom rows', 'missed rows', 'item-seconds uncovered', 'of them: ran on the killed worker', 'dropped'],
          rows: [[f.handlerRuns, f.matched, f.excusedLost, f.lost, f.wrong, f.duplicates, f.phantoms, f.missedRows, f.uncovered, f.uncoveredRanOnKilled, f.dropped]],
        },
        {
          title: `Fire lateness while PostgreSQL was down (${p.pgDownMs / 1000} s) and just before (ms)`,
          columns: ['span', 'fires', 'p50', 'p99', 'max'],
          rows: [
            ['before', f.latenessBefore.count, ms(f.latenessBefore.p50), ms(f.latenessBefore.p99), ms(f.latenessBefore.max)],
            ['PostgreSQL down', f.latenessDuringOutage.count, ms(f.latenessDuringOutage.p50), ms(f.latenessDuringOutage.p99), ms(f.latenessDuringOutage.max)],
          ],
        },
      ],
      targets: [
        { what: 'handler runs in PostgreSQL exactly once, right attempt, worker and token', target: 'all but the killed worker\'s last second', measured: `${f.matched} of ${f.handlerRuns} (${f.excusedLost} excused)`, met: f.lost === 0 && f.wrong === 0 && f.duplicates === 0 && f.matched + f.excusedLost === f.handlerRuns },
        {
          what: "item-seconds with neither a run nor a missed row, but those the killed worker ran in its last second (its handler's records or ZooKeeper's)",
          target: '0',
          measured: `${f.uncovered - f.uncoveredRanOnKilled} (${f.uncovered} in all)`,
          met: f.uncovered === f.uncoveredRanOnKilled,
        },
        { what: 'records dropped', target: '0', measured: String(f.dropped), met: f.dropped === 0 },
      ],
      data: { figures: f },
      notes: [
        'A SIGKILLed worker loses at most the records of its last second (its writer flushes every second): those entries are counted apart, and so are the item-seconds whose only run was one of them (the bench handler recorded it on the killed worker in its last 1.5 s, or an item record in ZooKeeper named the killed worker as its completer). The bench handler\'s own records of the killed worker\'s last 200 ms go with it too, and a scheduled success is recorded in its worker\'s ledger only (run protocol 2), so a run of those last 200 ms may show in neither: it then counts as uncovered.',
      ],
    };
  },
};
