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
