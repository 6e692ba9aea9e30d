import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import type { RunRecord } from '../support/worker-process.js';
import { testJob } from '../support/test-job.js';

const YEARLY = '0 0 0 1 1 *';

function def(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
  return testJob(name, { shards: 6, jobParameter: 'sleepMs=20', ...extra });
}

describe('FleetOperator (in-process workers): the leader honours operator requests', () => {
  let ctx: ZkTestContext;
  let dir: string;
  const workers: Worker[] = [];
  let zk: ZkClient;
  let ops: FleetOperator;
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function fleet(jobs: JobDefinition[], ids = ['a', 'b', 'c']): Promise<Worker[]> {
    ctx = new ZkTestContext('operator');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-ops-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
    for (const id of ids) {
      const w = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id, shutdownGraceMs: 2000, jobs: jobs.map((d) => ({ definition: d, overwrite: false })), baseDir: dir, logger: silentLogger() });
      workers.push(w);
      await w.start();
    }
    zk = await ctx.client();
    ops = new FleetOperator(zk, ctx.paths);
    const total = jobs.reduce((n, j) => n + j.shards, 0);
    await waitFor(() => workers.reduce((n, w) => n + Object.values(w.owned()).flat().length, 0) === total, { message: 'all items owned' });
    return workers;
  }
  const records = (): RunRecord[] => readFileSync(process.env.RECORD_FILE!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
  const ownerOf = (job: string, item: number) => workers.find((w) => w.owned()[job]?.includes(item));

  it('move pins an item to a worker; unpin releases the pin', async () => {
    const [, , c] = await fleet([def('ops')]);
    const target = ownerOf('ops', 0) === c ? 'a' : 'c';
    await ops.move('ops', 0, target);
    const a = await ops.waitForAssignment('ops', (rec) => rec.workers[rec.owners[0]!] === target);
    expect(a.pins).toEqual({ '0': target });
    await waitFor(() => ownerOf('ops', 0) === workers[['a', 'b', 'c'].indexOf(target)], { message: 'the target worker owns the pinned item' });
    await ops.unpin('ops', 0);
    await ops.waitForAssignment('ops', (rec) => Object.keys(rec.pins ?? {}).length === 0);
    await expect(ops.unpin('ops', 0)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('drain moves every item off a worker and waits for its runs; undrain lets it take items again', async () => {
    const [, b] = await fleet([def('ops', { jobParameter: 'sleepMs=300' })]);
    const owned = await ops.drain('b');
    expect(Object.values(owned).flat().length).toBeGreaterThan(0);
    await ops.waitForDrain('b');
    expect(b!.owned().ops ?? []).toEqual([]);
    await expect(ops.drain('b')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await ops.undrain('b');
    await waitFor(() => (b!.owned().ops?.length ?? 0) === 2, { message: 'b takes 2 items again' });
    await expect(ops.undrain('b')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(ops.drain('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('disable stops an item (or the job) from firing; enable resumes it', async () => {
    await fleet([def('ops')]);
    await ops.disable('ops', 1);
    await ops.waitForAssignment('ops', (a) => a.disabled?.join() === '1');
    const t0 = Date.now() + 300; // a run that began before the assignment reached the owner may still finish
    await waitFor(() => records().some((r) => r.event === 'start' && r.at > t0 + 2000), { message: '2 s more of runs' });
    expect(records().filter((r) => r.item === 1 && r.event === 'start' && r.at > t0)).toEqual([]);
    await ops.enable('ops', 1);
    const t1 = Date.now();
    await waitFor(() => records().some((r) => r.item === 1 && r.event === 'start' && r.at > t1), { message: 'item 1 runs again' });

    await ops.disable('ops');
    await ops.waitForAssignment('ops', (a) => a.disabled?.length === 6);
    await expect(ops.disable('ops')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(ops.trigger('ops')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await ops.enable('ops');
    await ops.waitForAssignment('ops', (a) => (a.disabled?.length ?? 0) === 0);
  });

  it('trigger runs every owned item now, once', async () => {
    await fleet([def('yearly', { cron: YEARLY, shards: 4 })]);
    const trigger = await ops.trigger('yearly');
    await ops.waitForTrigger('yearly', trigger);
    // Taken on (each item's record says so) is the begin; the handler starts a moment after it.
    const yearlyStarts = () => records().filter((r) => r.event === 'start' && r.job === 'yearly');
    await waitFor(() => yearlyStarts().length >= 4, { message: "every item's handler started" });
    const starts = yearlyStarts();
    expect(starts.map((r) => r.item).sort()).toEqual([0, 1, 2, 3]);
    expect(new Set(starts.map((r) => r.fire))).toEqual(new Set([trigger.fireTime.toISOString()]));
    expect(await zk.getChildren(ctx.paths.triggers('yearly'))).toEqual([]); // request cleaned up

    const one = await ops.trigger('yearly', 2);
    await ops.waitForTrigger('yearly', one);
    await waitFor(() => yearlyStarts().length >= 5, { message: "item 2's handler started again" });
    expect(yearlyStarts().length).toBe(5);
  });

  it('reshard: dry run computes the change and writes nothing; applying it grows and shrinks the job', async () => {
    await fleet([def('ops', { cron: YEARLY })]);
    const dry = await ops.reshard('ops', 9, { dryRun: true });
    expect(dry).toMatchObject({ job: 'ops', shardsBefore: 6, shardsAfter: 9, moves: 0 });
    expect(dry.after.filter((o) => o !== null)).toHaveLength(9);
    expect(JSON.parse((await zk.getData(ctx.paths.job('ops'))).data.toString()).shards).toBe(6);

    const grow = await ops.reshard('ops', 9);
    await ops.waitForPlan([grow]);
    await waitFor(() => workers.map((w) => w.owned().ops?.length ?? 0).join() === '3,3,3', { message: '3/3/3' });
    expect(await zk.exists(ctx.paths.item('ops', 8))).not.toBeNull();

    const shrink = await ops.reshard('ops', 2);
    await ops.waitForPlan([shrink]);
    await waitFor(() => workers.flatMap((w) => w.owned().ops ?? []).sort().join() === '0,1', { message: 'items 0,1 only' });
    expect(await zk.exists(ctx.paths.item('ops', 2))).toBeNull();
    await expect(ops.reshard('ops', 0)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(ops.reshard('ops', 2)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(ops.reshard('nope', 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rebalance reports the plan (nothing moves when balanced) and bad requests change nothing', async () => {
    await fleet([def('ops', { cron: YEARLY })]);
    const plan = await ops.rebalance({ dryRun: true });
    expect(plan).toHaveLength(1);
    expect(plan[0]!.moves).toBe(0);
    expect(await zk.exists(ctx.paths.rebalance)).toBeNull();
    await ops.rebalance();
    expect(await zk.exists(ctx.paths.rebalance)).not.toBeNull();
    await expect(ops.move('ops', 6, 'a')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(ops.move('ops', 0, 'zz')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ops.disable('ops', -1)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    expect(await zk.exists(ctx.paths.control('ops'))).toBeNull(); // nothing was written
  });
});
