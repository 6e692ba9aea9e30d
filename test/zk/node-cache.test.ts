import { afterEach, describe, expect, it } from 'vitest';
import { NodeCache } from '../../src/zk/node-cache.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { intercept } from '../support/intercept.js';

describe('NodeCache', () => {
  let ctx: ZkTestContext | undefined;
  let cache: NodeCache | undefined;
  afterEach(async () => {
    cache?.close();
    await ctx?.close();
  });

  it('follows a node through deletion and re-creation', async () => {
    ctx = new ZkTestContext('node-cache');
    const zk = await ctx.shared();
    const path = `${ctx.paths.root}/node`;
    await zk.mkdirp(ctx.paths.root);
    const node = new NodeCache(zk, path);
    cache = node;
    const seen: Array<string | null> = [];
    node.on('changed', (s) => seen.push(s ? s.data.toString() : null));
    await node.start();
    expect(node.current).toBeNull();
    await zk.create(path, Buffer.from('x'));
    await waitFor(() => node.current?.data.toString() === 'x', { message: 'created' });
    await zk.remove(path);
    await waitFor(() => node.current === null, { message: 'deleted' });
    await zk.create(path, Buffer.from('y'));
    await waitFor(() => node.current?.data.toString() === 'y', { message: 're-created' });
    expect(seen).toEqual(['x', null, 'y']);
  });

  it('with mostlyAbsent, learns that a node is absent with one request and still follows it', async () => {
    ctx = new ZkTestContext('node-cache-absent');
    const zk = await ctx.shared();
    const path = `${ctx.paths.root}/control`;
    await zk.mkdirp(ctx.paths.root);
    const calls: string[] = [];
    const counted = intercept(zk, {
      exists: (original, ...args) => (calls.push('exists'), original(...args)),
      getData: (original, ...args) => (calls.push('getData'), original(...args)),
      getDataIfExists: (original, ...args) => (calls.push('getDataIfExists'), original(...args)),
    });
    const node = new NodeCache(counted, path, undefined, undefined, { mostlyAbsent: true });
    cache = node;
    const seen: Array<string | null> = [];
    node.on('changed', (s) => seen.push(s ? s.data.toString() : null));
    await node.start();
    expect(node.current).toBeNull();
    expect(calls).toEqual(['exists']);
    await zk.create(path, Buffer.from('x'));
    await waitFor(() => node.current?.data.toString() === 'x', { message: 'created' });
    await zk.setData(path, Buffer.from('x2'));
    await waitFor(() => node.current?.data.toString() === 'x2', { message: 'changed' });
    await zk.remove(path);
    await waitFor(() => node.current === null, { message: 'deleted' });
    await zk.create(path, Buffer.from('y'));
    await waitFor(() => node.current?.data.toString() === 'y', { message: 're-created' });
    expect(seen).toEqual(['x', 'x2', null, 'y']);
  });
});
