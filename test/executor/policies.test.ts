import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import type { ProgressRecord } from '../../src/model/progress-record.js';
import { readProgress, ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { ZKSHARD_BIN, STAGED_SCRIPT, type RunRecord } from '../support/worker-process.js';
import { testJob } from '../support/test-job.js';

function def(extra: Partial<JobDefinition>): JobDefinition {
  return testJob('policy', { shards: 1, retry: { attempts: 1, backoffMs: 50, maxBackoffMs: 200 }, ...extra });
}

describe('execution policies on a real ZooKeeper', () => {
  let ctx: ZkTestContext;
  let dir: string;
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(prefix: string): void {
    ctx = new ZkTestContext(prefix);
    dir = mkdtempSync(join(tmpdir(), 'zkshard-policy-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
  }
  async function start(job: JobDefinition, id = 'p1', overwrite = false): Promise<Worker> {
    const w = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id, shutdownGraceMs: 1000, jobs: [{ definition: job, overwrite }], baseDir: dir, logger: silentLogger() });
    workers.push(w);
    await w.start();
    return w;
  }
  const records = (): RunRecord[] => readFileSync(process.env.RECORD_FILE!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
  const progress = async (item = 0): Promise<ProgressRecord> => readProgress(await ctx.shared(), ctx.paths, 'policy', item);
  const count = (event: string) => records().filter((r) => r.event === event).length;
  const noOverlap = (rs: RunRecord[]) => {
    const starts = rs.filter((r) => r.event === 'start');
    for (let i = 1; i < starts.length; i++) {
      const prevEnd = rs.find((r) => r.event !== 'start' && r.event !== 'stage' && r.fire === starts[i - 1]!.fire && r.attempt === starts[i - 1]!.attempt);
      expect(prevEnd, `run of ${starts[i - 1]!.fire} ended before the next started`).toBeDefined();
      expect(starts[i]!.at).toBeGreaterThanOrEqual(prevEnd!.at);
    }
  };

  it('overlap: skip drops fires while the item runs', async () => {
    setup('overlap-skip');
    await start(def({ jobParameter: 'sleepMs=2200' }));
    await waitFor(() => count('end') >= 2, { timeoutMs: 15_000, message: '2 runs' });
    const starts = records().filter((r) => r.event === 'start');
    // Consecutive runs are ~3 fires apart: the fires in between were skipped.
    const gap = Date.parse(starts[1]!.fire) - Date.parse(starts[0]!.fire);
    expect(gap).toBeGreaterThanOrEqual(3000);
    noOverlap(records());
    // The skipped fires are recorded with the item's next run, not just logged.
    const skipped = (await progress()).recent?.find((o) => o.outcome === 'skipped');
    expect(skipped, 'skipped fires recorded').toBeDefined();
    expect(skipped!.error).toMatch(/^\d+ fire\(s\) skipped/);
    expect(Date.parse(skipped!.fireTime)).toBeGreaterThan(Date.parse(starts[0]!.fire));
  });

  it('overlap: queue runs a fire right after the current run', async () => {
    setup('overlap-queue');
    await start(def({ overlap: 'queue', jobParameter: 'sleepMs=1500' }));
    await waitFor(() => count('end') >= 3, { timeoutMs: 15_000, message: '3 runs' });
    const rs = records();
    noOverlap(rs);
    const starts = rs.filter((r) => r.event === 'start');
    const end0 = rs.find((r) => r.event === 'end' && r.fire === starts[0]!.fire)!;
    // The next run starts as soon as the first ended (it was queued), not at the next fire instant.
    expect(starts[1]!.at - end0.at).toBeLessThan(900);
    expect(Date.parse(starts[1]!.fire)).toBeLessThan(end0.at);
  });

  it('overlap: replace aborts the running fire, then runs the new one', async () => {
    setup('overlap-replace');
    await start(def({ overlap: 'replace', jobParameter: 'sleepMs=10000' }));
    await waitFor(() => count('aborted') >= 2, { timeoutMs: 15_000, message: '2 replaced runs' });
    const aborted = records().filter((r) => r.event === 'aborted');
    expect(aborted.every((r) => r.reason === 'REPLACED')).toBe(true);
    noOverlap(records());
    const p = await progress();
    expect(p.recent?.some((o) => o.outcome === 'aborted')).toBe(true);
  });

  it('retry: a failing attempt is retried with backoff until it succeeds', async () => {
    setup('retry');
    await start(def({ cron: '0 0 0 1 1 *', retry: { attempts: 3, backoffMs: 50, maxBackoffMs: 200 }, jobParameter: 'failUntil=3' }));
    const zk = await ctx.shared();
    await zk.create(`${ctx.paths.triggers('policy')}/t-`, JSON.stringify({ items: null }), 'persistentSequential');
    await waitFor(() => count('end') === 1, { timeoutMs: 10_000, message: 'success on attempt 3' });
    expect(records().filter((r) => r.event === 'failed').map((r) => r.attempt)).toEqual([1, 2]);
    expect(records().find((r) => r.event === 'end')!.attempt).toBe(3);
    await waitFor(async () => (await progress()).outcome === 'success', { message: 'outcome recorded' });
    const p = await progress();
    expect(p).toMatchObject({ outcome: 'success', attempt: 3, inFlight: null });
  });

  it('retry: when attempts run out the fire is recorded as failed', async () => {
    setup('retry-fail');
    await start(def({ cron: '0 0 0 1 1 *', retry: { attempts: 2, backoffMs: 20, maxBackoffMs: 50 }, jobParameter: 'failUntil=9' }));
    const zk = await ctx.shared();
    await zk.create(`${ctx.paths.triggers('policy')}/t-`, JSON.stringify({ items: null }), 'persistentSequential');
    await waitFor(async () => (await progress()).outcome === 'failed', { timeoutMs: 10_000, message: 'failed outcome' });
    expect(count('failed')).toBe(2);
    expect((await progress()).recent?.[0]).toMatchObject({ outcome: 'failed', attempt: 2, error: 'attempt 2 fails on purpose' });
  });

  it('timeoutMs aborts the run (ctx.signal) and records a timeout', async () => {
    setup('timeout');
    await start(def({ cron: '0 0 0 1 1 *', timeoutMs: 300, jobParameter: 'sleepMs=5000' }));
    const zk = await ctx.shared();
    await zk.create(`${ctx.paths.triggers('policy')}/t-`, JSON.stringify({ items: null }), 'persistentSequential');
    await waitFor(async () => (await progress()).outcome === 'timeout', { timeoutMs: 10_000, message: 'timeout outcome' });
    expect(records().find((r) => r.event === 'aborted')).toMatchObject({ reason: 'RUN_TIMEOUT' });
  });

  it('ctx.stage: a stage completed in attempt 1 is skipped when the fire is retried', async () => {
    setup('stage');
    await start(def({ cron: '0 0 0 1 1 *', retry: { attempts: 2, backoffMs: 20, maxBackoffMs: 50 }, jobParameter: 'stages=fetch|write|index,failAfterStage=write' }));
    const zk = await ctx.shared();
    await zk.create(`${ctx.paths.triggers('policy')}/t-`, JSON.stringify({ items: null }), 'persistentSequential');
    await waitFor(() => count('end') === 1, { timeoutMs: 10_000, message: 'attempt 2 succeeds' });
    const stages = records().filter((r) => r.event === 'stage').map((r) => `${r.attempt}:${String(r.stage)}`);
    expect(stages).toEqual(['1:fetch', '1:write', '2:index']);
  });

  it('script jobs: `zkshard stage` skips the stages a fire already completed', async () => {
    setup('script-stage');
    process.env.ZKSHARD_BIN = ZKSHARD_BIN;
    await start(def({ cron: '0 0 0 1 1 *', handler: undefined, command: [STAGED_SCRIPT], retry: { attempts: 2, backoffMs: 20, maxBackoffMs: 50 } }));
    const zk = await ctx.shared();
    await zk.create(`${ctx.paths.triggers('policy')}/t-`, JSON.stringify({ items: null }), 'persistentSequential');
    await waitFor(async () => (await progress()).outcome === 'success', { timeoutMs: 15_000, message: 'attempt 2 succeeds' });
    const stages = records().filter((r) => r.event === 'stage').map((r) => `${r.attempt}:${String(r.stage)}`);
    expect(stages).toEqual(['1:fetch', '1:write', '2:index']);
    expect((await progress()).attempt).toBe(2);
  });

  for (const [misfire, expectRuns] of [['fire-once', 1], ['catch-up', 2], ['skip', 0]] as const) {
    it(`misfire: ${misfire} after the job had no worker for a while`, async () => {
      setup(`misfire-${misfire}`);
      const job = def({ misfire, maxCatchUp: 2, jobParameter: 'sleepMs=10' });
      const first = await start(job, 'm1');
      await waitFor(() => count('end') >= 1, { timeoutMs: 10_000, message: 'a first run' });
      await first.shutdown();
      const stoppedAt = Date.now();
      const lastBefore = (await progress()).lastScheduled!;
      await waitFor(() => Date.now() > stoppedAt + 3500, { timeoutMs: 10_000, message: 'some fires to be missed' });
      const restartAt = Date.now();
      await start(job, 'm2');
      await waitFor(() => records().some((r) => r.event === 'start' && r.worker === 'm2' && Date.parse(r.fire) > restartAt), { timeoutMs: 10_000, message: 'a regular run after restart' });
      await waitFor(() => records().filter((r) => r.worker === 'm2' && r.event === 'start').every((s) => records().some((e) => e.event === 'end' && e.fire === s.fire)), { message: 'runs ended' });
      const catchUp = records().filter((r) => r.event === 'start' && r.worker === 'm2' && Date.parse(r.fire) <= restartAt);
      expect(catchUp).toHaveLength(expectRuns);
      // Only fires after the last one taken on were made up for, the newest ones, oldest first.
      for (const r of catchUp) expect(Date.parse(r.fire)).toBeGreaterThan(Date.parse(lastBefore));
      const fires = catchUp.map((r) => Date.parse(r.fire));
      expect([...fires].sort((a, b) => a - b)).toEqual(fires);
      const missed = (await progress()).recent?.find((o) => o.outcome === 'missed');
      expect(missed, 'missed fires recorded').toBeDefined();
      expect(missed!.error).toMatch(/\d+ fire\(s\) missed/);
    });
  }
});
