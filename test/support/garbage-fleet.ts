import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Worker } from '../../src/worker/worker.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import type { ExecutorEvents } from '../../src/executor/executor.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { ZkTestContext } from './zk-test-client.js';
import { zkConnect } from './zk-connect.js';
import { waitFor } from './wait-for.js';
import type { RunRecord } from './worker-process.js';
import { testJob } from './test-job.js';

/** One started run as the executor reported it. */
export interface Started {
  worker: string;
  job: string;
  item: number;
  fire: number;
  reason: string;
}

/**
 * A live fleet of in-process workers for hostile-data tests: every job fires every second, each
 * worker's log is kept (parsed), every run start is recorded (the record handler's lines and
 * the executor's `started` events). `close()` stops and removes everything.
 */
export class GarbageFleet {
  readonly ctx: ZkTestContext;
  readonly dir = mkdtempSync(join(tmpdir(), 'zkshard-garbage-'));
  readonly recordFile = join(this.dir, 'record.jsonl');
  readonly workers: Worker[] = [];
  readonly logs: Array<Record<string, unknown>> = [];
  readonly started: Started[] = [];
  private client: ZkClient | undefined;

  constructor(prefix: string, readonly jobs: JobDefinition[]) {
    this.ctx = new ZkTestContext(prefix);
    writeFileSync(this.recordFile, '');
    process.env.RECORD_FILE = this.recordFile;
  }

  /** A job of the fleet: 2 items, every second, the record handler. */
  static job(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
    return testJob(name, { shards: 2, jobParameter: 'sleepMs=10', ...extra });
  }

  get paths() {
    return this.ctx.paths;
  }

  async zk(): Promise<ZkClient> {
    return (this.client ??= await this.ctx.client());
  }

  async start(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const stream = new Writable({ write: (chunk: Buffer, _enc, done) => { this.logs.push({ worker: id, ...(JSON.parse(chunk.toString()) as Record<string, unknown>) }); done(); } });
      const onStarted: (...args: ExecutorEvents['started']) => void = (req) => {
        this.started.push({ worker: id, job: req.job, item: req.item, fire: req.fireTime.getTime(), reason: req.reason });
      };
      const w = new Worker({
        connect: zkConnect(), namespace: this.ctx.namespace, sessionTimeoutMs: 4000, id, shutdownGraceMs: 500,
        jobs: this.jobs.map((d) => ({ definition: d, overwrite: false })), baseDir: this.dir, logger: pino({ level: 'warn' }, stream),
        onRun: { started: onStarted },
      });
      this.workers.push(w);
      await w.start();
    }
    const total = this.jobs.reduce((n, j) => n + j.shards, 0);
    await waitFor(() => this.workers.flatMap((w) => Object.values(w.owned()).flat()).length === total, { timeoutMs: 15_000, message: 'every item owned' });
  }

  records(): RunRecord[] {
    return readFileSync(this.recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
  }

  /** Handler starts of (job, item) for fires after `afterMs`. */
  startsAfter(job: string, item: number, afterMs: number): RunRecord[] {
    return this.records().filter((r) => r.event === 'start' && r.job === job && r.item === item && Date.parse(r.fire) > afterMs);
  }

  /** Waits until each (job, item) has run a fire later than `afterMs`. */
  async keepFiring(items: ReadonlyArray<[string, number]>, afterMs: number): Promise<void> {
    await waitFor(() => items.every(([job, item]) => this.startsAfter(job, item, afterMs).length > 0), {
      timeoutMs: 15_000,
      message: () => `still firing after the garbage: ${items.filter(([job, item]) => this.startsAfter(job, item, afterMs).length === 0).map(([j, i]) => `${j}#${i}`).join(', ')} did not`,
    });
  }

  /** `job#item@fire` of every handler start that ran more than once (nothing may). */
  duplicates(): string[] {
    const seen = new Map<string, number>();
    for (const r of this.records()) if (r.event === 'start') seen.set(`${r.job}#${r.item}@${r.fire}/${r.attempt}`, (seen.get(`${r.job}#${r.item}@${r.fire}/${r.attempt}`) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.shutdown()));
    await this.ctx.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
