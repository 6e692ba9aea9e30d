import { afterEach, describe, expect, it } from 'vitest';
import { GroupMember } from '../../src/membership/group-member.js';
import { decodeMemberInfo, type MemberInfo } from '../../src/membership/member-info.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { waitFor } from '../support/wait-for.js';

describe('GroupMember.update', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it('concurrent updates all land, in order, none failing the others\' version check', async () => {
    ctx = new ZkTestContext('member-update');
    const zk = await ctx.client();
    const info: MemberInfo = { id: 'w1', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' };
    const member = new GroupMember(zk, ctx.paths, info, silentLogger());
    await member.start();
    const clock = { skewMs: 3, maxSkewMs: 5000, ok: true, checkedAt: new Date().toISOString() };
    await Promise.all([member.update({ clock }), member.update({ codeMismatch: ['a'] }), member.update({ state: 'draining' })]);
    const stored = decodeMemberInfo((await zk.getData(ctx.paths.member(member.name))).data);
    expect(stored).toMatchObject({ clock, codeMismatch: ['a'], state: 'draining' });
    await member.close();
  });

  it('tells its own writes apart: each update reports the zxid that wrote the node, beside the move it makes (an operator\'s fence reports none)', async () => {
    ctx = new ZkTestContext('member-own-write');
    const zk = await ctx.client();
    const info: MemberInfo = { id: 'w1', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' };
    const member = new GroupMember(zk, ctx.paths, info, silentLogger());
    const seen: string[] = [];
    member.onOwnWrite((mzxid) => seen.push(`own ${mzxid}`));
    member.onFenceMoved((version, mzxid) => seen.push(`moved ${version} ${mzxid}`));
    await member.start();
    const clock = { skewMs: 150, maxSkewMs: 5000, ok: true, checkedAt: new Date().toISOString() };
    await member.update({ clock }); // a clock reading published
    const mine = (await zk.getData(ctx.paths.member(member.name))).stat;
    // (Usually in this order; the node's watch may see the new version first, which FenceMoves allows for.)
    expect([...seen].sort()).toEqual([`moved ${mine.version} ${mine.mzxid}`, `own ${mine.mzxid}`]);
    // The operator's fence: the same data written again, version-checked (api/job-nodes.ts).
    await zk.setData(ctx.paths.member(member.name), (await zk.getData(ctx.paths.member(member.name))).data, mine.version);
    const fenced = (await zk.getData(ctx.paths.member(member.name))).stat;
    await waitFor(() => member.fenceVersion() === fenced.version, { message: 'the fence seen' });
    expect(seen.slice(2)).toEqual([`moved ${fenced.version} ${fenced.mzxid}`]);
    await member.close();
  });

  it('an update after a forced remove or reshard fenced this member (its node written by the operator) still lands, and the fence is read again', async () => {
    ctx = new ZkTestContext('member-fence');
    const zk = await ctx.client();
    const info: MemberInfo = { id: 'w1', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' };
    const member = new GroupMember(zk, ctx.paths, info, silentLogger());
    await member.start();
    expect(member.fenceVersion()).toBe(0);
    // The operator's fence: the same data written again, version-checked (api/job-nodes.ts).
    const node = await zk.getData(ctx.paths.member(member.name));
    await zk.setData(ctx.paths.member(member.name), node.data, node.stat.version);
    await member.update({ state: 'draining' });
    expect(decodeMemberInfo((await zk.getData(ctx.paths.member(member.name))).data)).toMatchObject({ state: 'draining' });
    expect(member.fenceVersion()).toBe(2);
    await member.close();
  });

  it('an update that meets the leader\'s fences again and again (items moving away at every publishing multi) still lands', async () => {
    ctx = new ZkTestContext('member-fence-again');
    const zk = await ctx.client();
    const fencer = await ctx.client();
    const info: MemberInfo = { id: 'w1', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' };
    // Right before each of our first three writes of the node, another session fences it.
    let fencesLeft = 3;
    const fenced = new Proxy(zk, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (key !== 'setData') return (value as (...a: unknown[]) => unknown).bind(target);
        return async (path: string, ...rest: unknown[]) => {
          if (fencesLeft > 0 && path.includes('/workers/')) {
            fencesLeft--;
            const node = await fencer.getData(path);
            await fencer.setData(path, node.data, node.stat.version);
          }
          return (value as (...a: unknown[]) => unknown).call(target, path, ...rest);
        };
      },
    });
    const member = new GroupMember(fenced, ctx.paths, info, silentLogger());
    await member.start();
    await member.update({ state: 'draining' });
    expect(decodeMemberInfo((await zk.getData(ctx.paths.member(member.name))).data)).toMatchObject({ state: 'draining' });
    expect(fencesLeft).toBe(0);
    expect(member.fenceVersion()).toBe(4);
    await member.close();
  });

  it('follows its node: a version bumped by an operator\'s fence is known without a write of ours (a run begun ahead checks it before its handler)', async () => {
    ctx = new ZkTestContext('member-fence-watch');
    const zk = await ctx.client();
    const info: MemberInfo = { id: 'w1', host: 'h', pid: 1, jobs: ['a'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' };
    const member = new GroupMember(zk, ctx.paths, info, silentLogger());
    await member.start();
    expect(member.fenceVersion()).toBe(0);
    for (const expected of [1, 2]) {
      const node = await zk.getData(ctx.paths.member(member.name));
      await zk.setData(ctx.paths.member(member.name), node.data, node.stat.version);
      await waitFor(() => member.fenceVersion() === expected, { message: `fence version ${expected} seen` });
    }
    await member.update({ state: 'draining' }); // our own write goes on from there
    expect(member.fenceVersion()).toBe(3);
    await member.close();
  });
});
