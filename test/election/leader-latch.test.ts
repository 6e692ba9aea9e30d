import { afterEach, describe, expect, it } from 'vitest';
import { GroupMember } from '../../src/membership/group-member.js';
import { LeaderLatch } from '../../src/election/leader-latch.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import type { MemberInfo } from '../../src/membership/member-info.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { waitFor } from '../support/wait-for.js';

const info = (id: string): MemberInfo => ({ id, host: 'h', pid: 1, jobs: [], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 't' });

describe('LeaderLatch', () => {
  let ctx: ZkTestContext;
  afterEach(async () => ctx?.close());

  async function join(zk: ZkClient, id: string): Promise<{ member: GroupMember; latch: LeaderLatch; edges: string[] }> {
    const member = new GroupMember(zk, ctx.paths, info(id), silentLogger());
    await member.start();
    const latch = new LeaderLatch(zk, ctx.paths, member.name, silentLogger());
    const edges: string[] = [];
    latch.on('isLeader', () => edges.push('isLeader'));
    latch.on('notLeader', () => edges.push('notLeader'));
    await latch.start();
    return { member, latch, edges };
  }

  it('the lowest sequence leads and every other member watches only its predecessor', async () => {
    ctx = new ZkTestContext('election');
    const a = await join(await ctx.client(), 'a');
    const b = await join(await ctx.client(), 'b');
    const c = await join(await ctx.client(), 'c');
    expect(a.latch.isLeader).toBe(true);
    expect(b.latch.isLeader).toBe(false);
    expect(c.latch.isLeader).toBe(false);
    expect(a.latch.predecessor).toBeUndefined();
    expect(b.latch.predecessor).toBe(a.member.name);
    expect(c.latch.predecessor).toBe(b.member.name);
  });

  it('when the leader session ends, its successor leads; a middle member leaving only re-links the chain', async () => {
    ctx = new ZkTestContext('election-loss');
    const zkA = await ctx.client();
    const a = await join(zkA, 'a');
    const b = await join(await ctx.client(), 'b');
    const c = await join(await ctx.client(), 'c');
    await zkA.close(); // the leader's session ends: its node goes
    await waitFor(() => b.latch.isLeader, { message: 'b leads' });
    expect(c.latch.isLeader).toBe(false);
    expect(b.edges).toEqual(['isLeader']);
    expect(a.member.sequence).toBeLessThan(b.member.sequence);

    const d = await join(await ctx.client(), 'd');
    expect(d.latch.predecessor).toBe(c.member.name);
    await c.member.close(); // a follower leaves
    await waitFor(() => d.latch.predecessor === b.member.name, { message: 'd watches b' });
    expect(d.latch.isLeader).toBe(false);
    expect(b.latch.isLeader).toBe(true);
  });
});
