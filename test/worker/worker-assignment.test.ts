import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { RECORD_SCRIPT } from '../support/worker-process.js';
import { testJob } from '../support/test-job.js';

function def(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
  return testJob(name, { shards: 6, ...extra });
}

describe('Worker (in-process): assignment on join and leave', () => {
  let ctx: ZkTestContext;
  const workers: Worker[] = [];
  let dir: string;
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function worker(id: string, jobs: JobDefinition[], capacity = 1): Worker {
    const w = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id, capacity, shutdownGraceMs: 2000, jobs: jobs.map((d) => ({ definition: d, overwrite: false })), baseDir: dir, logger: silentLogger() });
    workers.push(w);
    return w;
  }
  const counts = (ws: Worker[], job: string) => ws.map((w) => w.owned()[job]?.length ?? 0);
  const union = (ws: Worker[], job: string) => ws.flatMap((w) => w.owned()[job] ?? []).sort((a, b) => a - b);

  it('spreads items over the workers that declare the job, rebalances minimally on join and leave', async () => {
    ctx = new ZkTestContext('assign');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-assign-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    const jobs = [def('orders', { jobParameter: 'sleepMs=10' }), def('reports', { shards: 2, jobParameter: 'sleepMs=10' })];
    const a = worker('a', jobs);
    const b = worker('b', [jobs[0]!]); // b cannot run `reports`
    await a.start();
    await b.start();
    await waitFor(() => counts([a, b], 'orders').join() === '3,3', { message: 'orders 3/3' });
    expect(union([a, b], 'orders')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.owned().reports).toEqual([0, 1]); // only a declares reports
    expect(b.owned().reports).toBeUndefined();
    expect(a.isLeader).toBe(true);

    const beforeJoin = { a: [...a.owned().orders!], b: [...b.owned().orders!] };
    const c = worker('c', jobs);
    await c.start();
    await waitFor(() => counts([a, b, c], 'orders').join() === '2,2,2', { message: 'orders 2/2/2' });
    expect(union([a, b, c], 'orders')).toEqual([0, 1, 2, 3, 4, 5]);
    // Minimal movement: a and b only gave items away.
    expect(a.owned().orders!.every((i) => beforeJoin.a.includes(i))).toBe(true);
    expect(b.owned().orders!.every((i) => beforeJoin.b.includes(i))).toBe(true);
    await waitFor(() => (a.owned().reports?.length ?? 0) + (c.owned().reports?.length ?? 0) === 2 && c.owned().reports?.length === 1, { message: 'reports 1/1' });

    const kept = { a: [...a.owned().orders!], c: [...c.owned().orders!] };
    await b.shutdown();
    await waitFor(() => counts([a, c], 'orders').join() === '3,3', { message: 'orders 3/3 after leave' });
    expect(union([a, c], 'orders')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kept.a.every((i) => a.owned().orders!.includes(i))).toBe(true);
    expect(kept.c.every((i) => c.owned().orders!.includes(i))).toBe(true);
  });

  it('the first definition wins; a later worker with overwrite: true replaces it', async () => {
    ctx = new ZkTestContext('overwrite');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-ow-'));
    const a = worker('a', [def('job', { shards: 2 })]);
    await a.start();
    const b = worker('b', [def('job', { shards: 5 })]);
    await b.start();
    const zk = await ctx.client();
    const stored = () => zk.getData(ctx.paths.job('job')).then((d) => JSON.parse(d.data.toString()) as JobDefinition);
    expect((await stored()).shards).toBe(2);
    const c = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'c', jobs: [{ definition: def('job', { shards: 4 }), overwrite: true }], baseDir: dir, logger: silentLogger() });
    workers.push(c);
    await c.start();
    expect((await stored()).shards).toBe(4);
    await waitFor(() => union([a, b, c], 'job').join() === '0,1,2,3', { message: 'all 4 items owned' });
  });

  it('a script job gets the ZKSHARD_* environment', async () => {
    ctx = new ZkTestContext('script');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-script-'));
    const record = join(dir, 'record.jsonl');
    writeFileSync(record, '');
    process.env.RECORD_FILE = record;
    const w = worker('s1', [def('scripted', { shards: 2, handler: undefined, command: [RECORD_SCRIPT], itemParameters: { '1': 'one' }, jobParameter: 'jp' })]);
    await w.start();
    const lines = await waitFor(() => {
      const l = readFileSync(record, 'utf8').split('\n').filter(Boolean).map((x) => JSON.parse(x) as Record<string, unknown>);
      return l.some((x) => x.item === 1) && l.some((x) => x.item === 0) ? l : undefined;
    }, { timeoutMs: 10_000, message: 'script runs' });
    const one = lines.find((x) => x.item === 1)!;
    expect(one).toMatchObject({ job: 'scripted', param: 'one', jobParam: 'jp', shards: 2, attempt: 1, worker: 's1' });
    expect(one.fireId).toBe(`scripted@${one.fire as string}#1`);
    expect(String(one.fire)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(BigInt(one.token as string)).toBeGreaterThan(0n);
  });
});

describe('Worker (in-process): clock check', () => {
  let ctx: ZkTestContext;
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
  });

  it('a worker whose clock is off by more than maxClockSkewMs gets no items and says why', async () => {
    ctx = new ZkTestContext('clock');
    const jobs = [{ definition: def('timed', { shards: 4, cron: '0 0 0 1 1 *' }), overwrite: false }];
    const ok = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'ok', jobs, baseDir: tmpdir(), logger: silentLogger() });
    const skewed = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'skewed', jobs, baseDir: tmpdir(), logger: silentLogger(), maxClockSkewMs: 1000, clock: () => Date.now() + 60_000 });
    workers.push(ok, skewed);
    await ok.start();
    await skewed.start();
    const zk = await ctx.client();
    const members = await zk.getChildren(ctx.paths.workers);
    const infos = await Promise.all(members.map(async (m) => JSON.parse((await zk.getData(ctx.paths.member(m))).data.toString()) as { id: string; clock: { ok: boolean; skewMs: number } }));
    const skewedInfo = infos.find((i) => i.id === 'skewed')!;
    expect(skewedInfo.clock.ok).toBe(false);
    expect(skewedInfo.clock.skewMs).toBeGreaterThan(59_000);
    expect(infos.find((i) => i.id === 'ok')!.clock.ok).toBe(true);
    await waitFor(() => ok.owned().timed?.length === 4, { message: 'the healthy worker owns every item' });
    expect(skewed.owned().timed ?? []).toEqual([]);
  });
});
