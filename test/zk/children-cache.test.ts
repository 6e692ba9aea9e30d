import { afterEach, describe, expect, it } from 'vitest';
import { ChildrenCache } from '../../src/zk/children-cache.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

describe('ChildrenCache', () => {
  let ctx: ZkTestContext | undefined;
  const caches: Array<{ close(): void }> = [];
  afterEach(async () => {
    for (const c of caches.splice(0)) c.close();
    await ctx?.close();
  });

  it('ChildrenCache follows children and their data, and its parent through removal and re-creation', async () => {
    ctx = new ZkTestContext('children-cache');
    const zk = await ctx.shared();
    const parent = `${ctx.paths.root}/parent`;
    await zk.mkdirp(parent);
    await zk.create(`${parent}/a`, Buffer.from('1'));
    const cache = new ChildrenCache(zk, parent, { withData: true });
    caches.push(cache);
    let changes = 0;
    cache.on('changed', () => changes++);
    await cache.start();
    expect(cache.children).toEqual(['a']);
    expect(cache.data('a')?.data.toString()).toBe('1');

    await zk.create(`${parent}/b`, Buffer.from('2'));
    await zk.setData(`${parent}/a`, Buffer.from('3'));
    await waitFor(() => cache.children.length === 2 && cache.data('a')?.data.toString() === '3' && cache.data('b')?.data.toString() === '2', { message: 'b added and a changed' });

    // The parent goes (e.g. its job was removed): the cache empties, then follows it when it comes back.
    await zk.remove(`${parent}/a`);
    await zk.remove(`${parent}/b`);
    await zk.remove(parent);
    await waitFor(() => cache.children.length === 0 && cache.data('a') === undefined, { message: 'cache empty once the parent is gone' });
    const before = changes;
    await zk.mkdirp(parent);
    await zk.create(`${parent}/c`, Buffer.from('4'));
    await waitFor(() => cache.children.join() === 'c' && cache.data('c')?.data.toString() === '4', { message: 'the re-created parent followed' });
    expect(changes).toBeGreaterThan(before);
  });
});
