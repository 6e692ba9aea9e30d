import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { decodeProgress, RECENT_OUTCOMES } from '../../src/model/progress-record.js';
import { HISTORY_WRITE_INTERVAL_MS } from '../../src/executor/item-history-writer.js';
import { readProgress, ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { holdersOf } from '../support/ledger-holds.js';

const ZKCTL = resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'zkctl.js');

describe('run history', () => {
  let ctx: ZkTestContext | undefined;
  let worker: Worker | undefined;
  let dir: string;
  afterEach(async () => {
    await worker?.shutdown();
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps the last ${RECENT_OUTCOMES} runs per item, readable with zkctl job --history`, async () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-history-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
    ctx = new ZkTestContext('history');
    worker = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'h1', jobs: [{ definition: testJob('hist', { cron: '0 0 0 1 1 *', shards: 1, jobParameter: 'sleepMs=5' }), overwrite: false }], baseDir: dir, logger: silentLogger() });
    await worker.start();
    await waitFor(() => worker!.owned().hist?.length === 1, { message: 'item owned' });
    const zk = await ctx.shared();
    const ops = new FleetOperator(zk, ctx.paths);
    const runs = RECENT_OUTCOMES + 2;
    const fires: string[] = [];
    for (let i = 0; i < runs; i++) {
      const t = await ops.trigger('hist');
      await ops.waitForTrigger('hist', t);
      fires.push(t.fireTime.toISOString());
      // Taken on (waitForTrigger), then over: no ledger has it in flight (a success writes no record).
      await waitFor(async () => (await holdersOf(zk, ctx!.paths, 'hist', 0)).length === 0, { message: `run ${i} over` });
    }
    // Successful runs' history is written at most every HISTORY_WRITE_INTERVAL_MS (by a release or the sweep).
    const recent = await waitFor(
      async () => {
        const r = (await readProgress(zk, ctx!.paths, 'hist', 0)).recent;
        return r?.[0]?.fireTime === fires.at(-1) && r;
      },
      { timeoutMs: HISTORY_WRITE_INTERVAL_MS + 10_000, message: 'the history to catch up' },
    );
    // The history has its own node: the progress record that every run's start rewrites stays small.
    expect(decodeProgress((await zk.getData(ctx.paths.item('hist', 0))).data).recent).toBeUndefined();
    expect(recent).toHaveLength(RECENT_OUTCOMES); // bounded
    expect(recent.map((r) => r.fireTime)).toEqual(fires.slice(-RECENT_OUTCOMES).reverse()); // newest first
    expect(recent[0]).toMatchObject({ outcome: 'success', attempt: 1, worker: 'h1' });
    expect(Date.parse(recent[0]!.startedAt!)).toBeLessThanOrEqual(Date.parse(recent[0]!.at));

    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((res) =>
        execFile(process.execPath, [ZKCTL, '--zk', zkConnect(), '--namespace', ctx!.namespace, ...args], (err, stdout) => res({ code: err ? 1 : 0, stdout })),
      );
    const human = await run('job', 'hist', '--history');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ITEM\s+FIRE\s+OUTCOME\s+ATTEMPT\s+WORKER\s+STARTED\s+ENDED\s+DURATION\s+ERROR$/m);
    expect(human.stdout.split('\n').filter((l) => /^\s*0\s+\S+\s+success\s+1\s+h1/.test(l))).toHaveLength(RECENT_OUTCOMES);
    const json = JSON.parse((await run('--json', 'job', 'hist')).stdout) as { items: Array<{ history: unknown[] }> };
    expect(json.items[0]!.history).toHaveLength(RECENT_OUTCOMES);
  });
});
