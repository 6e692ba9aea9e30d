import { afterEach, describe, expect, it } from 'vitest';
import { ChildrenCache } from '../../src/zk/children-cache.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { intercept } from '../support/intercept.js';
import { ConnectionLossError } from '../../src/zk/zk-errors.js';

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
    await cache.start();
    expect(cache.children).toEqual(['a']);
    expect(cache.data('a')?.data.toString()).toBe('1');

    await zk.create(`${parent}/b`, Buffer.from('2'));
    await zk.setData(`${parent}/a`, Buffer.from('3'));
    await waitFor(() => cache.children.length === 2 && cache.data('a')?.data.toString() === '3' && cache.data('b')?.data.toString() === '2', { message: 'b added and a changed' });
  });

  it('has not read while its first read failed (start() resolved all the same), and has once a retry succeeded', async () => {
    ctx = new ZkTestContext('children-cache-unread');
    const zk = await ctx.shared();
    const parent = `${ctx.paths.root}/parent`;
    await zk.mkdirp(parent);
    await zk.create(`${parent}/a`, Buffer.from('1'));
    let failures = 1;
    const flaky = intercept(zk, {
      getChildren: (original, ...args) => (failures-- > 0 ? Promise.reject(new ConnectionLossError('CONNECTION_LOSS', 'connection lost', { path: parent })) : original(...args)),
    });
    const cache = new ChildrenCache(flaky, parent, { withData: true, retry: { backoff: { initialMs: 10, maxMs: 20 } } });
    caches.push(cache);
    await cache.start();
    expect(cache.children).toEqual([]); // empty, which is not "no children"
    expect(cache.hasRead).toBe(false);
    await waitFor(() => cache.hasRead, { message: 'read on the retry' });
    expect(cache.children).toEqual(['a']);
  });

  it('empties when its parent goes, and follows the parent when it is created again', async () => {
    ctx = new ZkTestContext('children-cache-parent');
    const zk = await ctx.shared();
    const parent = `${ctx.paths.root}/parent`;
    await zk.mkdirp(parent);
    await zk.create(`${parent}/a`);
    const cache = new ChildrenCache(zk, parent, { withData: false });
    caches.push(cache);
    await cache.start();
    expect(cache.children).toEqual(['a']);
    // Both at once, so that one watch notification (one refresh) sees the parent gone.
    await zk.commit(zk.transaction().remove(`${parent}/a`).remove(parent));
    await waitFor(() => cache.children.length === 0, { message: 'cache empty once the parent is gone' });
    // The cache asked for an existence watch before it emptied; this session's writes come after it.
    await zk.mkdirp(parent);
    await zk.create(`${parent}/c`);
    await waitFor(() => cache.children.join() === 'c', { message: 'the re-created parent followed' });
  });
});
