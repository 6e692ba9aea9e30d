// One BullMQ worker process of the peer scenario (spawned by bullmq-bench.ts with an IPC channel and
// its configuration as JSON in argv[2]). Its processor records every entry, one line per run:
//   <scheduler id> <scheduled fire ms> <entry ms, 3 decimals> <attempts started> <worker id>
// buffered in memory and appended to <recordsDir>/bull-runs-<pid>.txt every 200 ms (and at exit),
// then waits `runMs`. Messages: it sends {type:'ready'} once it is connected; on {type:'freeze'}
// it writes the jobs it is running to <recordsDir>/inflight-<pid>.json synchronously and blocks its
// event loop, so the bench can SIGKILL it with exactly those jobs mid-run. It exits when the bench
// disconnects (dies) and closes the worker on SIGTERM.
import { appendFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, type Job, type WorkerOptions } from 'bullmq';

/** What a peer worker process runs with (argv[2], JSON). */
export interface PeerWorkerConfig {
  redisPort: number;
  queue: string;
  /** Stable id of this worker slot (w1..wN), kept across restarts. */
  workerId: string;
  /** Where run records and in-flight lists are written. */
  recordsDir: string;
  /** BullMQ `concurrency`: jobs run at once by this process. */
  concurrency: number;
  /** How long each run lasts after its entry is recorded (0: a no-op processor). */
  runMs: number;
  /** BullMQ `lockDuration` (ms); absent: BullMQ's default (30000). */
  lockDurationMs?: number;
  /** BullMQ `stalledInterval` (ms); absent: BullMQ's default (30000). */
  stalledIntervalMs?: number;
}

/** One job running when the worker was frozen. */
export interface InflightJob {
  jobId: string;
  scheduler: string;
  fire: number;
  entry: number;
}

/** The message a frozen worker leaves: the jobs it was running (empty: it ran none). */
export interface InflightFile {
  pid: number;
  workerId: string;
  frozenAt: number;
  jobs: InflightJob[];
}

/** Parent → worker messages. */
export type PeerWorkerRequest = { type: 'freeze' };
/** Worker → parent messages. */
export type PeerWorkerMessage = { type: 'ready' };

const config = JSON.parse(process.argv[2] ?? '{}') as PeerWorkerConfig;
const recordsFile = join(config.recordsDir, `bull-runs-${process.pid}.txt`);
const now = (): number => performance.timeOrigin + performance.now();
let buffer: string[] = [];
let writing = Promise.resolve();
const inflight = new Map<string, InflightJob>();

function flush(): void {
  if (buffer.length === 0) return;
  const lines = buffer.join('');
  buffer = [];
  writing = writing.then(() => appendFile(recordsFile, lines)).catch(() => {});
}
setInterval(flush, 200).unref();
process.on('exit', () => {
  if (buffer.length > 0) appendFileSync(recordsFile, buffer.join(''));
});

async function processor(job: Job): Promise<void> {
  const entry = now();
  // A scheduler's job is `repeat:<scheduler>:<fire ms>`; opts.prevMillis holds the same fire time.
  const scheduler = job.repeatJobKey ?? job.name;
  const fire = job.opts.prevMillis ?? Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  buffer.push(`${scheduler} ${fire} ${entry.toFixed(3)} ${job.attemptsStarted} ${config.workerId}\n`);
  if (config.runMs <= 0) return;
  const id = job.id ?? `${scheduler}:${fire}`;
  inflight.set(id, { jobId: id, scheduler, fire, entry });
  try {
    await sleep(config.runMs);
  } finally {
    inflight.delete(id);
  }
}

const opts: WorkerOptions = { connection: { host: '127.0.0.1', port: config.redisPort }, concurrency: config.concurrency };
if (config.lockDurationMs !== undefined) opts.lockDuration = config.lockDurationMs;
if (config.stalledIntervalMs !== undefined) opts.stalledInterval = config.stalledIntervalMs;
const worker = new Worker(config.queue, processor, opts);
worker.on('error', (err) => process.stderr.write(`bullmq worker ${config.workerId}: ${err.message}\n`));

function freeze(): void {
  const file: InflightFile = { pid: process.pid, workerId: config.workerId, frozenAt: now(), jobs: [...inflight.values()] };
  writeFileSync(join(config.recordsDir, `inflight-${process.pid}.json`), JSON.stringify(file));
  if (file.jobs.length === 0) return; // nothing to interrupt: keep running, the bench tries again
  // Block the event loop (no lock renewal, no completion) until the bench's SIGKILL; exit if none comes.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  process.exit(3);
}

process.on('message', (msg: PeerWorkerRequest) => {
  if (msg.type === 'freeze') freeze();
});
process.on('disconnect', () => process.exit(2));
process.once('SIGTERM', () => {
  const forced = setTimeout(() => process.exit(1), 5000);
  forced.unref();
  void worker
    .close()
    .catch(() => {})
    .then(() => {
      flush();
      return writing;
    })
    .finally(() => process.exit(0));
});

await worker.waitUntilReady();
process.send?.({ type: 'ready' } satisfies PeerWorkerMessage);
