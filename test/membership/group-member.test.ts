import { afterEach, describe, expect, it } from 'vitest';
import { GroupMember } from '../../src/membership/group-member.js';
import { decodeMemberInfo, type MemberInfo } from '../../src/membership/member-info.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';

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
});
