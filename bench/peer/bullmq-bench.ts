import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { rssMb } from '../lib/process-memory.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';
import { summarize, type Summary } from '../lib/stats.js';
import type { InflightFile, InflightJob, PeerWorkerConfig, PeerWorkerMessage, PeerWorkerRequest } from './bullmq-worker.js';
import { redisCommand, type RedisServer } from './redis-server.js';
import { tallyFires, type FireWindowFigures } from '../lib/fire-tally.js';

/** BullMQ's stall detection: absent fields keep BullMQ's defaults (lockDuration and stalledInterval 30000 ms). */
export interface BullmqSettings {
  label: 'default' | 'tuned';
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** BullMQ exactly as shipped. */
export const BULLMQ_DEFAULT: BullmqSettings = { label: 'default' };
/** BullMQ's documented defaults, for bounds and reports. */
export const BULLMQ_DEFAULT_LOCK_DURATION_MS = 30_000;
export const BULLMQ_DEFAULT_STALLED_INTERVAL_MS = 30_000;

/** Lock duration and stalled-check interval both set to our session timeout. */
export function bullmqTuned(sessionTimeoutMs: number): BullmqSettings {
  return { label: 'tuned', lockDurationMs: sessionTimeoutMs, stalledIntervalMs: sessionTimeoutMs };
}

/** One processor entry recorded by a peer worker. */
export interface BullRecord {
  scheduler: string;
  fire: number;
  entry: number;
  attempt: number;
  worker: string;
}

const CRON_EVERY_SECOND = '* * * * * *';
const WORKER_JS = join(import.meta.dirname, 'bullmq-worker.js');
const now = (): number => performance.timeOrigin + performance.now();

/**
 * Reads the records peer workers append to `bull-runs-*.txt` in a directory, incrementally: each
 * `poll()` returns only the complete lines written since the previous one.
 */
class RecordTail {
  private readonly offsets = new Map<string, { offset: number; rest: string }>();

  constructor(private readonly dir: string) {}

  poll(): BullRecord[] {
    const out: BullRecord[] = [];
    for (const name of readdirSync(this.dir).filter((n) => n.startsWith('bull-runs-') && n.endsWith('.txt'))) {
      const file = join(this.dir, name);
      const state = this.offsets.get(name) ?? { offset: 0, rest: '' };
      this.offsets.set(name, state);
      const size = statSync(file).size;
      if (size <= state.offset) continue;
      const buf = Buffer.alloc(size - state.offset);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, state.offset);
      } finally {
        closeSync(fd);
      }
      state.offset = size;
      const lines = (state.rest + buf.toString('utf8')).split('\n');
      state.rest = lines.pop() ?? '';
      for (const line of lines) {
        const p = line.split(' ');
        if (p.length !== 5) continue;
        const rec = { scheduler: p[0]!, fire: Number(p[1]), entry: Number(p[2]), attempt: Number(p[3]), worker: p[4]! };
        if (Number.isFinite(rec.fire) && Number.isFinite(rec.entry)) out.push(rec);
      }
    }
    return out;
  }
}

interface PeerProc {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * BullMQ worker processes (bullmq-worker.js, ids w1..wN) on one queue, each spawned with
 * process.execPath and an IPC channel, in its own process group, its pid tracked for cleanup. A
 * restart keeps the id; the processes of an id append to `<dir>/bull-worker-<id>.log`.
 */
class PeerFleet {
  readonly procs = new Map<string, PeerProc>();
  private readonly unregister: () => void;

  constructor(
    private readonly ctx: ScenarioContext,
    private readonly base: Omit<PeerWorkerConfig, 'workerId'>,
  ) {
    if (!existsSync(WORKER_JS)) throw new Error(`${WORKER_JS} is missing: run npm run build first`);
    mkdirSync(base.recordsDir, { recursive: true });
    this.unregister = ctx.cleanup.add(`bullmq workers ${base.queue}`, () => this.stopAll());
  }

  /** Starts (or restarts) worker `id` and waits until it is connected to Redis. */
  async start(id: string, timeoutMs = 30_000): Promise<void> {
    const config: PeerWorkerConfig = { ...this.base, workerId: id };
    const log = openSync(join(this.base.recordsDir, `bull-worker-${id}.log`), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER_JS, JSON.stringify(config)], { stdio: ['ignore', log, log, 'ipc'], detached: true });
    } finally {
      closeSync(log);
    }
    const untrack = child.pid === undefined ? () => false : this.ctx.cleanup.trackPid(child.pid);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }).finally(untrack);
    this.procs.set(id, { child, exited });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: PeerWorkerMessage) => {
          if (m.type === 'ready') resolve();
        });
        void exited.then(() => reject(new Error(`bullmq worker ${id} exited before it was ready (see ${this.base.recordsDir})`)));
        timer = setTimeout(() => reject(new Error(`bullmq worker ${id} not ready within ${timeoutMs} ms`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  pid(id: string): number | undefined {
    return this.procs.get(id)?.child.pid;
  }

  /**
   * Asks worker `id` to freeze with the jobs it runs (it blocks its event loop right after writing
   * them), then SIGKILLs it. Returns the SIGKILL time and those jobs; `undefined` when the worker
   * ran no job at that moment (it is not frozen then, and keeps running).
   */
  async freezeAndKill(id: string): Promise<{ killAt: number; inflight: InflightFile } | undefined> {
    const proc = this.procs.get(id);
    if (!proc?.child.pid) throw new Error(`bullmq worker ${id} is not running`);
    const file = join(this.base.recordsDir, `inflight-${proc.child.pid}.json`);
    rmSync(file, { force: true });
    proc.child.send({ type: 'freeze' } satisfies PeerWorkerRequest);
    const deadline = Date.now() + 5000;
    let inflight: InflightFile | undefined;
    while (inflight === undefined && Date.now() < deadline) {
      try {
        inflight = JSON.parse(readFileSync(file, 'utf8')) as InflightFile;
      } catch {
        await sleep(2); // not written (completely) yet
      }
    }
    if (inflight === undefined) throw new Error(`bullmq worker ${id} did not answer the freeze request`);
    rmSync(file, { force: true });
    if (inflight.jobs.length === 0) return undefined;
    process.kill(proc.child.pid, 'SIGKILL');
    const killAt = now();
    await proc.exited;
    return { killAt, inflight };
  }

  /** SIGTERM to every worker (BullMQ's close), SIGKILL after `graceMs`. */
  async stopAll(graceMs = 8000): Promise<void> {
    await Promise.all(
      [...this.procs.values()].map(async ({ child, exited }) => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          return;
        }
        if ((await Promise.race([exited.then(() => true), sleep(graceMs, false, { ref: false })])) === false) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
          await exited;
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.stopAll();
    this.unregister();
  }
}

/** Empties Redis and creates `count` job schedulers `s0000`.. firing every second on `queue`. */
async function createSchedulers(redis: RedisServer, queue: string, count: number): Promise<void> {
  await redisCommand(redis.port, ['FLUSHALL']);
  const q = new Queue(queue, { connection: { host: redis.host, port: redis.port } });
  try {
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, (_, k) => `s${String(i + k).padStart(4, '0')}`);
      await Promise.all(batch.map((id) => q.upsertJobScheduler(id, { pattern: CRON_EVERY_SECOND }, { name: 'tick', data: {} })));
    }
  } finally {
    await q.close();
  }
}

function workerIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `w${i + 1}`);
}

function workerConfig(redis: RedisServer, queue: string, dir: string, concurrency: number, runMs: number, s: BullmqSettings): Omit<PeerWorkerConfig, 'workerId'> {
  const c: Omit<PeerWorkerConfig, 'workerId'> = { redisPort: redis.port, queue, recordsDir: dir, concurrency, runMs };
  if (s.lockDurationMs !== undefined) c.lockDurationMs = s.lockDurationMs;
  if (s.stalledIntervalMs !== undefined) c.stalledIntervalMs = s.stalledIntervalMs;
  return c;
}

/** Runs of each (scheduler, fire) with a fire time in [from, to), and what is missing. */
function tally(records: readonly BullRecord[], schedulers: number, from: number, to: number): { runs: BullRecord[]; expected: number; duplicates: number; misses: number } {
  return tallyFires(records, (r) => `${r.scheduler} ${r.fire}`, schedulers, from, to);
}

export interface BullmqLatenessOptions {
  settings: BullmqSettings;
  /** Job schedulers, pattern '* * * * * *'. */
  schedulers: number;
  workers: number;
  /** BullMQ `concurrency` of each worker process. */
  concurrency: number;
  /** Measured window (fires scheduled inside it). */
  durationMs: number;
  /** Running before the window opens. @default 5000 */
  warmupMs?: number;
}

/** What one BullMQ lateness run measured (fires scheduled inside the window only). */
export interface BullmqLatenessFigures extends Required<BullmqLatenessOptions>, FireWindowFigures {
  /** Runs whose scheduled fire time is not a whole second (0 unless the fire time is misread). */
  offGridFires: number;
}

/**
 * Scenario 1 on BullMQ: `schedulers` job schedulers firing every second, a no-op processor on
 * `workers` processes; processor entry − scheduled fire for every fire in the window, duplicates,
 * misses. Redis is flushed first; the workers are stopped at the end.
 */
export async function measureBullmqLateness(ctx: ScenarioContext, redis: RedisServer, o: BullmqLatenessOptions): Promise<BullmqLatenessFigures> {
  const warmupMs = o.warmupMs ?? 5000;
  const queue = `lateness-${o.settings.label}`;
  const dir = join(ctx.dir, `bullmq-${queue}`);
  await redisCommand(redis.port, ['FLUSHALL']);
  const fleet = new PeerFleet(ctx, workerConfig(redis, queue, dir, o.concurrency, 0, o.settings));
  try {
    await Promise.all(workerIds(o.workers).map((id) => fleet.start(id)));
    await createSchedulers(redis, queue, o.schedulers);
    const from = Math.ceil((Date.now() + warmupMs) / 1000) * 1000;
    const to = from + o.durationMs;
    ctx.log(`BullMQ ${o.settings.label}: ${o.schedulers} schedulers on ${o.workers} workers (concurrency ${o.concurrency}); measuring fires from ${new Date(from).toISOString()} for ${o.durationMs / 1000} s`);
    let maxRssMb = 0;
    while (Date.now() < to + 3000 && !ctx.signal.aborted) {
      if (Date.now() >= from) for (const id of fleet.procs.keys()) maxRssMb = Math.max(maxRssMb, rssMb(fleet.pid(id)!) ?? 0);
      await sleepUnlessAborted(1000, ctx.signal);
    }
    await fleet.close();
    ctx.signal.throwIfAborted();
    const t = tally(new RecordTail(dir).poll(), o.schedulers, from, to);
    return {
      ...o,
      warmupMs,
      runs: t.runs.length,
      expected: t.expected,
      lateness: summarize(t.runs.map((r) => r.entry - r.fire)),
      duplicates: t.duplicates,
      misses: t.misses,
      maxRssMb: Math.round(maxRssMb),
      offGridFires: t.runs.filter((r) => r.fire % 1000 !== 0).length,
    };
  } finally {
    await fleet.close();
  }
}

export interface BullmqFailoverOptions {
  settings: BullmqSettings;
  /** Job schedulers, pattern '* * * * * *'. @default 32 */
  schedulers?: number;
  workers: number;
  concurrency: number;
  /** How long each run lasts, so that a kill lands mid-run. @default 700 */
  runMs?: number;
  /** Kill instant after a whole second (runs start just after it). @default 300 */
  killPhaseMs?: number;
  /** SIGKILLs to do (one worker at a time, round robin, restarted before the next). */
  kills: number;
  /** No new kill starts after this long. @default Infinity */
  budgetMs?: number;
  /** Give up waiting for an interrupted run after this long. @default lockDuration + 2 × stalledInterval + 10 s */
  maxWaitMs?: number;
  /** Steady running after each (re)start before a kill. @default 2000 */
  settleMs?: number;
}

/** One interrupted run: what became of it. */
export interface BullmqInterruption {
  kill: number;
  scheduler: string;
  fire: number;
  /** ms from SIGKILL until the same run (scheduler, fire) was entered again; absent: never (within maxWaitMs). */
  restartMs?: number;
  /** BullMQ's attemptsStarted at the re-run. */
  restartAttempt?: number;
  /** ms from SIGKILL until the scheduler's first run elsewhere, whatever its fire time. */
  nextRunMs?: number;
}

/** What one BullMQ failover run measured. */
export interface BullmqFailoverFigures {
  settings: BullmqSettings;
  lockDurationMs: number;
  stalledIntervalMs: number;
  schedulers: number;
  workers: number;
  concurrency: number;
  runMs: number;
  killPhaseMs: number;
  /** Kills done (each interrupted at least one run). */
  kills: number;
  /** Runs interrupted by the kills. */
  interrupted: number;
  /** Interrupted runs never entered again within maxWaitMs. */
  notRerun: number;
  maxWaitMs: number;
  /** ms from SIGKILL until an interrupted run is entered again elsewhere (the stalled-job path). */
  restart: Summary;
  /** ms from SIGKILL until an interrupted scheduler runs again elsewhere (its next fire, usually). */
  nextRun: Summary;
  /** Over the whole phase (warm-up to the last kill's end): runs beyond the first of a (scheduler, fire), re-runs of interrupted runs excluded. */
  duplicates: number;
  /** Over the whole phase: fires due that never ran. */
  misses: number;
  /** Fires due over the whole phase. */
  expected: number;
  interruptions: BullmqInterruption[];
}

/**
 * Scenario 2 on BullMQ: `schedulers` every-second job schedulers whose runs last `runMs` on
 * `workers` processes; `kills` times, a worker is frozen while it runs jobs and SIGKILLed, and
 * each interrupted run is followed until it is entered again on another worker (BullMQ's stalled
 * job check moves it back to wait once its lock has expired) or `maxWaitMs` passes. The killed
 * worker is restarted and the fleet runs `settleMs` before the next kill.
 */
export async function measureBullmqFailover(ctx: ScenarioContext, redis: RedisServer, o: BullmqFailoverOptions): Promise<BullmqFailoverFigures> {
  const schedulers = o.schedulers ?? 32;
  const killPhaseMs = o.killPhaseMs ?? 300;
  const runMs = o.runMs ?? 700;
  const settleMs = o.settleMs ?? 2000;
  const lockDurationMs = o.settings.lockDurationMs ?? BULLMQ_DEFAULT_LOCK_DURATION_MS;
  const stalledIntervalMs = o.settings.stalledIntervalMs ?? BULLMQ_DEFAULT_STALLED_INTERVAL_MS;
  const maxWaitMs = o.maxWaitMs ?? lockDurationMs + 2 * stalledIntervalMs + 10_000;
  const budgetMs = o.budgetMs ?? Number.POSITIVE_INFINITY;
  const queue = `failover-${o.settings.label}`;
  const dir = join(ctx.dir, `bullmq-${queue}`);
  await redisCommand(redis.port, ['FLUSHALL']);
  const fleet = new PeerFleet(ctx, workerConfig(redis, queue, dir, o.concurrency, runMs, o.settings));
  const ids = workerIds(o.workers);
  const interruptions: BullmqInterruption[] = [];
  const tail = new RecordTail(dir);
  const records: BullRecord[] = [];
  try {
    await Promise.all(ids.map((id) => fleet.start(id)));
    await createSchedulers(redis, queue, schedulers);
    const t0 = Date.now();
    await sleepUnlessAborted(settleMs, ctx.signal);
    const from = Math.ceil(Date.now() / 1000) * 1000;
    let kills = 0;
    for (let attempt = 0; kills < o.kills && attempt < o.kills * 3 && !ctx.signal.aborted && Date.now() - t0 < budgetMs; attempt++) {
      const victim = ids[kills % ids.length]!;
      // Mid-run: runs start just after each whole second and last runMs.
      await sleepUnlessAborted(1000 - (Date.now() % 1000) + killPhaseMs, ctx.signal);
      if (ctx.signal.aborted) break;
      const killed = await fleet.freezeAndKill(victim);
      if (!killed) continue;
      kills++;
      const open = killed.inflight.jobs.map((j: InflightJob): BullmqInterruption => ({ kill: kills, scheduler: j.scheduler, fire: j.fire }));
      interruptions.push(...open);
      const deadline = killed.killAt + maxWaitMs;
      while (!ctx.signal.aborted && now() < deadline && open.some((i) => i.restartMs === undefined || i.nextRunMs === undefined)) {
        await sleepUnlessAborted(100, ctx.signal);
        const fresh = tail.poll();
        records.push(...fresh);
        for (const r of fresh) {
          if (r.entry <= killed.killAt) continue;
          for (const i of open) {
            if (r.scheduler !== i.scheduler) continue;
            i.nextRunMs ??= r.entry - killed.killAt;
            if (r.fire === i.fire && i.restartMs === undefined) {
              i.restartMs = r.entry - killed.killAt;
              i.restartAttempt = r.attempt;
            }
          }
        }
      }
      const restarted = open.filter((i) => i.restartMs !== undefined);
      ctx.log(
        `BullMQ ${o.settings.label}: kill ${kills} of ${victim}: ${open.length} runs interrupted, ${restarted.length} re-run after ` +
          `${restarted.map((i) => Math.round(i.restartMs! / 100) / 10).join(', ') || '–'} s`,
      );
      await fleet.start(victim);
      await sleepUnlessAborted(settleMs, ctx.signal);
    }
    const to = Math.floor(Date.now() / 1000) * 1000 - 2000;
    await fleet.close();
    ctx.signal.throwIfAborted();
    records.push(...tail.poll());
    const t = tally(records, schedulers, from, to);
    const reruns = new Set(interruptions.map((i) => `${i.scheduler} ${i.fire}`));
    const counts = new Map<string, number>();
    for (const r of t.runs) counts.set(`${r.scheduler} ${r.fire}`, (counts.get(`${r.scheduler} ${r.fire}`) ?? 0) + 1);
    let extra = 0;
    for (const [key, n] of counts) if (!reruns.has(key)) extra += n - 1;
    return {
      settings: o.settings,
      lockDurationMs,
      stalledIntervalMs,
      schedulers,
      workers: o.workers,
      concurrency: o.concurrency,
      runMs,
      killPhaseMs,
      kills,
      interrupted: interruptions.length,
      notRerun: interruptions.filter((i) => i.restartMs === undefined).length,
      maxWaitMs,
      restart: summarize(interruptions.flatMap((i) => (i.restartMs === undefined ? [] : [i.restartMs]))),
      nextRun: summarize(interruptions.flatMap((i) => (i.nextRunMs === undefined ? [] : [i.nextRunMs]))),
      duplicates: extra,
      misses: t.misses,
      expected: t.expected,
      interruptions,
    };
  } finally {
    await fleet.close();
  }
}
