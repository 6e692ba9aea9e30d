import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';

const ZKCTL = resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'zkctl.js');

function def(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
  return testJob(name, { cron: '0 0 0 1 1 *', jobParameter: 'sleepMs=10', ...extra });
}

interface Result { code: number; stdout: string; stderr: string }

describe('zkctl operator commands (reshard, rebalance, move, unpin, drain, undrain, disable, enable, trigger)', () => {
  let ctx: ZkTestContext;
  let dir: string;
  const workers: Worker[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-zkctl-op-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await ctx?.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const zkctl = (...args: string[]): Promise<Result> =>
    new Promise((res) => {
      execFile(process.execPath, [ZKCTL, '--zk', zkConnect(), '--namespace', ctx.namespace, ...args], { timeout: 40_000, env: { ...process.env, ZKSHARD_ZK: '', ZKSHARD_NAMESPACE: '' } }, (err, stdout, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  async function fleet(jobs: JobDefinition[], ids = ['a', 'b', 'c']): Promise<void> {
    ctx = new ZkTestContext('zkctl-op');
    for (const id of ids) {
      const w = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id, shutdownGraceMs: 1000, jobs: jobs.map((d) => ({ definition: d, overwrite: false })), baseDir: dir, logger: silentLogger() });
      workers.push(w);
      await w.start();
    }
    const total = jobs.reduce((n, j) => n + j.shards, 0);
    await waitFor(() => workers.reduce((n, w) => n + Object.values(w.owned()).flat().length, 0) === total, { message: 'all items owned' });
  }
  const assignment = async (job: string) => (await readAssignmentOf(await ctx.shared(), ctx.paths, job))!;

  it('reshard: dry run prints before/after and writes nothing; applied, it waits for the workers', async () => {
    await fleet([def('orders')]);
    const dry = await zkctl('reshard', 'orders', '--shards', '6', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/orders \(4 → 6 items\): 0 items move/);
    expect(dry.stdout).toMatch(/ITEM\s+BEFORE\s+AFTER/);
    expect(dry.stdout).toMatch(/dry run: 0 items would move; nothing written/);
    expect((await assignment('orders')).shards).toBe(4);

    const json = await zkctl('--json', 'reshard', 'orders', '--shards', '6');
    expect(json.code, json.stderr).toBe(0);
    const change = JSON.parse(json.stdout) as { shardsBefore: number; shardsAfter: number; after: string[]; applied: boolean };
    expect(change).toMatchObject({ shardsBefore: 4, shardsAfter: 6, applied: true });
    expect((await assignment('orders')).shards).toBe(6); // --wait (default) returned after the leader honoured it
    expect(workers.flatMap((w) => w.owned().orders ?? []).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    expect((await zkctl('reshard', 'orders', '--shards', '0')).code).toBe(2);
    expect((await zkctl('reshard', 'orders', '--shards', 'x')).code).toBe(2);
    expect((await zkctl('reshard', 'orders')).code).toBe(2);
    const unknown = await zkctl('reshard', 'nope', '--shards', '3');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no job named "nope"/);
  });

  it('move pins and waits until the item is there; unpin releases; bad targets exit 2 or 3', async () => {
    await fleet([def('orders')]);
    const before = await assignment('orders');
    const target = ['a', 'b', 'c'].find((id) => before.workers[before.owners[0]!] !== id)!;
    const moved = await zkctl('move', 'orders', '0', '--to', target);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`item 0 of orders pinned to ${target}`);
    const after = await assignment('orders');
    expect(after.workers[after.owners[0]!]).toBe(target);
    expect(after.pins).toEqual({ '0': target });
    expect((await zkctl('unpin', 'orders', '0')).code).toBe(0);
    expect((await zkctl('unpin', 'orders', '0')).code).toBe(2); // not pinned any more
    expect((await zkctl('move', 'orders', '9', '--to', target)).code).toBe(2);
    expect((await zkctl('move', 'orders', '0', '--to', 'ghost')).code).toBe(3);
    expect((await zkctl('move', 'orders', '-1', '--to', target)).code).toBe(2);
  });

  it('drain moves everything off a worker and reports; undrain takes it back', async () => {
    await fleet([def('orders', { shards: 6 })]);
    const drained = await zkctl('--json', 'drain', 'b');
    expect(drained.code, drained.stderr).toBe(0);
    const report = JSON.parse(drained.stdout) as { worker: string; moved: Record<string, number[]>; drained: boolean };
    expect(report.worker).toBe('b');
    expect(report.drained).toBe(true);
    expect(report.moved.orders).toHaveLength(2);
    expect(workers[1]!.owned().orders ?? []).toEqual([]);
    const again = await zkctl('drain', 'b');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already being drained/);
    expect((await zkctl('undrain', 'b')).code).toBe(0);
    await waitFor(() => workers[1]!.owned().orders?.length === 2, { message: 'b takes items again' });
    expect((await zkctl('drain', 'ghost')).code).toBe(3);
  });

  it('disable/enable a job or an item; trigger runs now; rebalance --dry-run shows no moves', async () => {
    await fleet([def('orders')]);
    const off = await zkctl('disable', 'orders', '--item', '2');
    expect(off.code, off.stderr).toBe(0);
    expect((await assignment('orders')).disabled).toEqual([2]);
    expect((await zkctl('disable', 'orders', '--item', '2')).code).toBe(2);
    const trig = await zkctl('--json', 'trigger', 'orders');
    expect(trig.code, trig.stderr).toBe(0);
    expect((JSON.parse(trig.stdout) as { items: number[] }).items).toEqual([0, 1, 3]); // the disabled item is left out
    expect((await zkctl('enable', 'orders', '--item', '2')).code).toBe(0);
    expect((await zkctl('disable', 'orders')).code).toBe(0);
    expect((await assignment('orders')).disabled).toEqual([0, 1, 2, 3]);
    expect((await zkctl('trigger', 'orders')).code).toBe(2);
    expect((await zkctl('enable', 'orders')).code).toBe(0);
    const plan = await zkctl('rebalance', '--dry-run');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/dry run: 0 items would move/);
  });

  it('ZooKeeper unreachable: exit 3 with one clear line, quickly', async () => {
    ctx = new ZkTestContext('zkctl-down');
    const started = Date.now();
    const down = await new Promise<Result>((res) =>
      execFile(process.execPath, [ZKCTL, '--zk', '127.0.0.1:1', 'drain', 'a'], (err, stdout, stderr) => res({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr })),
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach ZooKeeper at 127.0.0.1:1/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
