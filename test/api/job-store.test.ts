import { afterEach, describe, expect, it } from 'vitest';
import { JobStore } from '../../src/api/job-store.js';
import { decodeJob } from '../../src/model/job-record.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { testJob } from '../support/test-job.js';

describe('JobStore.register with a stored definition that does not decode', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('leaves it alone without overwrite (no endless retry); replaces it whole with overwrite: true', async () => {
    ctx = new ZkTestContext('jobstore-bad');
    const zk = await ctx.client();
    const p = ctx.paths;
    const store = new JobStore(zk, p);
    const def = testJob('j', { shards: 3 });
    await zk.mkdirp(p.jobs);
    await zk.create(p.job('j'), Buffer.from('{"name":"j","shards":1000000000}'));

    const kept = await store.register(def, false);
    expect(kept.outcome).toBe('malformed');
    expect(kept.problem?.reason).toMatch(/shards must be an integer from 1 to 10000/);
    expect((await zk.getData(p.job('j'))).data.toString()).toBe('{"name":"j","shards":1000000000}');

    // A job node without data nor children (e.g. made by a mkdirp) is repaired whole as well.
    await zk.create(p.job('k'));
    for (const [name, shards] of [['j', 3], ['k', 2]] as const) {
      const own = testJob(name, { shards });
      expect(await store.register(own, true)).toMatchObject({ outcome: 'overwritten', definition: own });
      expect(decodeJob((await zk.getData(p.job(name))).data)).toEqual(own);
      expect((await zk.getChildren(p.items(name))).sort()).toEqual(Array.from({ length: shards }, (_, i) => String(i)));
      expect(await zk.exists(p.triggers(name))).not.toBeNull();
    }
  });
});

describe('JobStore.register of many jobs', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('makes the jobs node once per store, not once per job (a worker registers 10,000 of them at start), and again after a failed try', async () => {
    ctx = new ZkTestContext('jobstore-many');
    const zk = await ctx.client();
    let made = 0;
    let failNext = true;
    const counted = new Proxy(zk, {
      get(target, key, receiver) {
        if (key === 'mkdirp') {
          return async (path: string) => {
            made++;
            if (failNext) {
              failNext = false;
              throw new Error('connection lost');
            }
            return target.mkdirp(path);
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const store = new JobStore(counted, ctx.paths);
    await expect(store.register(testJob('a'), false)).rejects.toThrow('connection lost');
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((name) => store.register(testJob(name), false)));
    expect(outcomes.map((o) => o.outcome)).toEqual(['created', 'created', 'created', 'created']);
    expect(made).toBe(2); // the failed one, then one for the four
  });
});

describe('JobStore.register of a definition stored with its fields in another order', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('finds it unchanged (no rewrite, its version stays): definitions are compared as values, not as key orders', async () => {
    ctx = new ZkTestContext('jobstore-order');
    const zk = await ctx.client();
    const p = ctx.paths;
    const store = new JobStore(zk, p);
    const def = testJob('j', { shards: 3 });
    await store.register(def, false);
    const stored = await zk.getData(p.job('j'));
    // The same definition built another way (a program's own JobDefinition, keys in another order).
    const reordered = Object.fromEntries(Object.entries(def).reverse()) as typeof def;
    expect(await store.register(reordered, true)).toMatchObject({ outcome: 'unchanged' });
    expect((await zk.getData(p.job('j'))).stat.version).toBe(stored.stat.version);
  });
});
