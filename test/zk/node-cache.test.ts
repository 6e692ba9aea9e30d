import { afterEach, describe, expect, it } from 'vitest';
import { NodeCache } from '../../src/zk/node-cache.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

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
});
