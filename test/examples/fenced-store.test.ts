import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { silentLogger } from '../../src/logging/create-logger.js';
// @ts-expect-error -- a plain JavaScript example, without type declarations
import { FencedStore } from '../../examples/fencing/fenced-store.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import type { RunRecord } from '../support/worker-process.js';

interface Store {
  write(key: string, token: string, value: unknown): void;
  read(key: string): unknown;
}

describe('fencing tokens with a fenced store (examples/fencing)', () => {
  let ctx: ZkTestContext;
  let dir: string;
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.shutdown();
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a later run of an item has a larger token, and the store refuses the earlier run\'s late write', async () => {
    ctx = new ZkTestContext('fencing');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-fence-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
    worker = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'f1', jobs: [{ definition: testJob('fenced', { cron: '0 0 0 1 1 *', shards: 1 }), overwrite: false }], baseDir: dir, logger: silentLogger() });
    await worker.start();
    await waitFor(() => worker!.owned().fenced?.length === 1, { message: 'item owned' });
    const ops = new FleetOperator(await ctx.shared(), ctx.paths);
    const runs = () => readFileSync(process.env.RECORD_FILE!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord).filter((r) => r.event === 'start');
    await ops.waitForTrigger('fenced', await ops.trigger('fenced'));
    await waitFor(() => runs().length === 1, { message: 'first run' });
    await ops.waitForTrigger('fenced', await ops.trigger('fenced'));
    await waitFor(() => runs().length === 2, { message: 'second run' });
    const [first, second] = runs() as [RunRecord, RunRecord];
    expect(BigInt(second.token)).toBeGreaterThan(BigInt(first.token));

    const store = new FencedStore() as Store;
    store.write('fenced#0', second.token, 'from the second run');
    store.write('fenced#0', second.token, 'same run writes again'); // equal token: same run, accepted
    expect(() => store.write('fenced#0', first.token, 'late write of the first run')).toThrow(/stale fencing token/);
    expect(store.read('fenced#0')).toBe('same run writes again');
  });
});
