import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { LeaderCoordinator } from '../../src/leader/leader-coordinator.js';
import { JOB_DEFAULTS } from '../../src/config/job-definition.js';
import { encodeJob } from '../../src/model/job-record.js';
import type { AssignmentRecord } from '../../src/model/assignment-record.js';
import { MAX_GROUP_BYTES, assignmentGroupOf } from '../../src/model/assignment-group.js';
import { assignmentIn, assignmentPath, encodeAssignments } from '../support/assignments.js';
import { RUN_PROTOCOL, encodeMemberInfo } from '../../src/membership/member-info.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../../src/zk/multi-size.js';
import { waitFor } from '../support/wait-for.js';
import { intercept } from '../support/intercept.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { ZkTestContext } from '../support/zk-test-client.js';

/** A stored job definition: once a year, `shards` items. */
const jobRecord = (name: string, shards: number): Buffer =>
  encodeJob({ ...JOB_DEFAULTS, name, cron: '0 0 0 1 1 *', shards, itemParameters: {}, handler: './h.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 } });

describe('LeaderCoordinator', () => {
  let ctx: ZkTestContext | undefined;
  let leader: LeaderCoordinator | undefined;
  afterEach(async () => {
    leader?.close();
    await ctx?.close();
  });

  /** A fleet of one member (worker w1) declaring `jobs` (name → its items), each defined. */
  async function oneMember(tag: string, jobs: Record<string, number>) {
    ctx = new ZkTestContext(tag);
    const zk = await ctx.shared();
    const { paths } = ctx;
    const member = 'm-0123456789abcdef-0000000001';
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.jobs);
    for (const [name, shards] of Object.entries(jobs)) await zk.create(paths.job(name), jobRecord(name, shards));
    const info = { id: 'w1', host: 'h', pid: 1, jobs: Object.keys(jobs), labels: {}, capacity: 1, state: 'active' as const, startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(member), encodeMemberInfo(info), 'ephemeral');
    return { zk, paths, member };
  }

  it('publishes assignments larger than one multi may carry in several, each checking its membership', async () => {
    ctx = new ZkTestContext('leader-chunks');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const member = 'm-0123456789abcdef-0000000001';
    // 80 jobs of 8,000 items: about 1.3 MB of assignment nodes, more than one request may carry (DEFAULT_MAX_REQUEST_BYTES).
    const jobs = Array.from({ length: 80 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    await zk.mkdirp(paths.jobs);
    await zk.mkdirp(paths.workers);
    for (const name of jobs) await zk.create(paths.job(name), jobRecord(name, 8000));
    const info = { id: 'w1', host: 'h', pid: 1, jobs, labels: {}, capacity: 1, state: 'active' as const, startedAt: new Date().toISOString(), version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(member), encodeMemberInfo(info), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    const published: string[] = [];
    leader.on('published', (names) => published.push(...names));
    await leader.start();
    await waitFor(() => published.length === jobs.length, { timeoutMs: 30_000, message: 'every assignment published' });
    const groups = new Set(jobs.map(assignmentGroupOf));
    let total = 0;
    for (const group of groups) total += (await zk.getData(paths.assignmentGroup(group))).data.length;
    for (const name of jobs) {
      const a = assignmentIn((await zk.getData(assignmentPath(paths, name))).data, name)!;
      expect(a.owners).toHaveLength(8000);
      expect(a.owners.every((o) => o === member)).toBe(true);
    }
    expect(total).toBeGreaterThan(DEFAULT_MAX_REQUEST_BYTES); // so it took more than one multi
  });

  it('a leader whose membership node is gone is deposed and writes nothing', async () => {
    ctx = new ZkTestContext('leader-deposed');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const gone = 'm-0123456789abcdef-0000000001';
    const live = 'm-fedcba9876543210-0000000002';
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.jobs);
    await zk.create(paths.job('tick'), jobRecord('tick', 2));
    const info = { id: 'w2', host: 'h', pid: 2, jobs: ['tick'], labels: {}, capacity: 1, state: 'active' as const, startedAt: new Date().toISOString(), version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(live), encodeMemberInfo(info), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, gone, silentLogger());
    let deposed = 0;
    const published: string[] = [];
    leader.on('deposed', () => deposed++);
    leader.on('published', (names) => published.push(...names));
    await leader.start();
    await waitFor(() => deposed > 0, { message: 'deposed' });
    expect(await zk.exists(assignmentPath(paths, 'tick'))).toBeNull();
    expect(published).toEqual([]);
    expect(deposed).toBe(1);
  });

  it('fences every member it moves items away from, in the multi that moves them, and nothing else', async () => {
    ctx = new ZkTestContext('leader-fences');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const first = 'm-0123456789abcdef-0000000001';
    const second = 'm-fedcba9876543210-0000000002';
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.jobs);
    await zk.create(paths.job('tick'), jobRecord('tick', 4));
    const info = (id: string) => encodeMemberInfo({ id, host: 'h', pid: 1, jobs: ['tick'], labels: {}, capacity: 1, state: 'active' as const, startedAt: '2026-12-04T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL });
    await zk.create(paths.member(first), info('w1'), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, first, silentLogger());
    const published: string[][] = [];
    leader.on('published', (names) => published.push(names));
    await leader.start();
    await waitFor(() => published.length === 1, { message: 'first assignment published' });
    // Items given to a member fence nobody: the first member had none before.
    expect((await zk.getData(paths.member(first))).stat.version).toBe(0);

    await zk.create(paths.member(second), info('w2'), 'ephemeral');
    await waitFor(() => published.length === 2, { message: 'items moved to the second member' });
    const assignment = await zk.getData(assignmentPath(paths, 'tick'));
    const moved = assignmentIn(assignment.data, 'tick')!;
    expect(moved.owners.filter((o) => o === second).length).toBe(2);
    const fenced = await zk.getData(paths.member(first));
    // The first member's node was written in the very transaction that moved its items (same zxid),
    // with its own data; the member that gained items was not written.
    expect(fenced.stat.version).toBe(1);
    expect(fenced.stat.mzxid).toBe(assignment.stat.mzxid);
    expect(fenced.data.equals(info('w1'))).toBe(true);
    expect((await zk.getData(paths.member(second))).stat.version).toBe(0);
    // The fence changed a member node's version, not what it says: no pass is planned for it.
    const passes = leader.reconcilePasses;
    await zk.setData(paths.rebalance, Buffer.from('x')).catch(async () => zk.create(paths.rebalance, Buffer.from('x')));
    await waitFor(() => leader!.reconcilePasses > passes, { message: 'a rebalance request is planned' });
    expect(leader.reconcilePasses).toBe(passes + 1);
    expect(published).toHaveLength(2);
  });

  it("stamps its assignment writes with its clock's time, not the machine's (the simulation's time in the simulation)", async () => {
    const { zk, paths, member } = await oneMember('leader-clock', { tick: 2 });
    const at = Date.UTC(2031, 4, 6, 7, 8, 9);
    leader = new LeaderCoordinator(zk, paths, member, silentLogger(), undefined, undefined, { now: () => at });
    await leader.start();
    const found = await waitFor(async () => zk.getDataIfExists(assignmentPath(paths, 'tick')), { message: 'the assignment written' });
    expect(assignmentIn(found!.data, 'tick')?.updatedAt).toBe(new Date(at).toISOString());
  });

  it('plans a job from its definition as last written: resharded, and deleted then made again', async () => {
    const { zk, paths, member } = await oneMember('leader-redefined', { tick: 2 });
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    await leader.start();
    const shardsNow = async (): Promise<number | undefined> => {
      const found = await zk.getDataIfExists(assignmentPath(paths, 'tick'));
      return found ? assignmentIn(found.data, 'tick')?.owners.length : undefined;
    };
    await waitFor(async () => (await shardsNow()) === 2, { message: 'two items assigned' });
    await zk.setData(paths.job('tick'), jobRecord('tick', 5));
    await waitFor(async () => (await shardsNow()) === 5, { message: 'the reshard to five items planned' });
    // Deleted: the leader drops it from its assignment node. Made again: a newer write under the
    // same name; the assignment follows it.
    await zk.remove(paths.job('tick'));
    await waitFor(async () => (await shardsNow()) === undefined, { message: 'the deleted job dropped from its assignment node' });
    await zk.create(paths.job('tick'), jobRecord('tick', 3));
    await waitFor(async () => (await shardsNow()) === 3, { message: 'the job made again planned with three items' });
  });

  it('drops a deleted job from its assignment node, fencing the member that owned its items', async () => {
    const { zk, paths, member } = await oneMember('leader-job-gone', { tick: 2 });
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    const published: string[][] = [];
    leader.on('published', (names) => published.push(names));
    await leader.start();
    await waitFor(() => published.length === 1, { message: 'assigned' });
    await zk.remove(paths.job('tick'));
    await waitFor(() => published.length === 2, { message: 'the deleted job dropped' });
    expect(published[1]).toEqual(['tick']);
    const node = await zk.getData(assignmentPath(paths, 'tick'));
    expect(assignmentIn(node.data, 'tick')).toBeUndefined();
    // Its owner's node was written in that transaction: a begin of the job's items fails its fence.
    const fenced = await zk.getData(paths.member(member));
    expect(fenced.stat.mzxid).toBe(node.stat.mzxid);
  });

  it('leaves an assignment node that would outgrow MAX_GROUP_BYTES unwritten, names it, counts it, and writes the others', async () => {
    ctx = new ZkTestContext('leader-group-full');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const member = 'm-0123456789abcdef-0000000001';
    // Jobs of 10,000 items (about 20 KB of owners each) whose names all fall in group 0, enough to pass the limit.
    const crowded: string[] = [];
    for (let i = 0; crowded.length * 20_000 <= MAX_GROUP_BYTES; i++) if (assignmentGroupOf(`crowd-${i}`) === 0) crowded.push(`crowd-${i}`);
    const alone = Array.from({ length: 200 }, (_, i) => `alone-${i}`).find((j) => assignmentGroupOf(j) !== 0)!;
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.jobs);
    for (const name of crowded) await zk.create(paths.job(name), jobRecord(name, 10_000));
    await zk.create(paths.job(alone), jobRecord(alone, 2));
    const info = { id: 'w1', host: 'h', pid: 1, jobs: [...crowded, alone], labels: {}, capacity: 1, state: 'active' as const, startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(member), encodeMemberInfo(info), 'ephemeral');
    const lines: Array<{ msg: string; path?: string; bytes?: number; limit?: number }> = [];
    leader = new LeaderCoordinator(zk, paths, member, pino({ level: 'error' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
    const published: string[] = [];
    leader.on('published', (names) => published.push(...names));
    const oversized: number[] = [];
    leader.on('oversized', (groups) => oversized.push(groups));
    await leader.start();
    await waitFor(() => published.includes(alone), { message: 'the job of another node assigned' });
    expect(await zk.exists(paths.assignmentGroup(0))).toBeNull();
    expect(oversized).toEqual([1]);
    expect(published.filter((j) => crowded.includes(j))).toEqual([]);
    const refused = lines.find((l) => l.path === paths.assignmentGroup(0));
    expect(refused?.msg).toMatch(/assignment node would be larger than/);
    expect(refused?.bytes).toBeGreaterThan(MAX_GROUP_BYTES);
    expect(refused?.limit).toBe(MAX_GROUP_BYTES);
    // Once its jobs fit again, the node is written and no longer counted.
    for (const name of crowded.slice(1)) await zk.remove(paths.job(name));
    await waitFor(() => published.includes(crowded[0]!), { message: 'the node written once it fits' });
    expect(assignmentIn((await zk.getData(paths.assignmentGroup(0))).data, crowded[0]!)?.shards).toBe(10_000);
    expect(oversized).toEqual([1, 0]);
  });

  it('takes the definitions its process follows from there, reads only the others, and plans again when one changes', async () => {
    const { zk, paths, member } = await oneMember('leader-followed', { mine: 2, other: 3 });
    // 'mine' as the worker's cache holds it: a later write than ZooKeeper's node says (4 items).
    const stored = await zk.getData(paths.job('mine'));
    let mine = { data: jobRecord('mine', 4), stat: { ...stored.stat, mzxid: stored.stat.mzxid + 1000n } };
    const listeners = new Set<(job: string) => void>();
    const followed = {
      definition: (job: string) => (job === 'mine' ? mine : undefined),
      onChanged: (listener: (job: string) => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const reads: string[] = [];
    const counted = intercept(zk, {
      getData: (original, path, ...rest) => (reads.push(path), original(path, ...rest)),
      getDataIfExists: (original, path, ...rest) => (reads.push(path), original(path, ...rest)),
    });
    leader = new LeaderCoordinator(counted, paths, member, silentLogger(), undefined, followed);
    await leader.start();
    const shards = async (job: string) => (await readAssignmentOf(zk, paths, job))?.shards;
    await waitFor(async () => (await shards('mine')) === 4 && (await shards('other')) === 3, { message: 'both planned' });
    expect(reads).not.toContain(paths.job('mine'));
    expect(reads).toContain(paths.job('other'));

    mine = { data: jobRecord('mine', 6), stat: { ...mine.stat, mzxid: mine.stat.mzxid + 1n } };
    for (const l of listeners) l('mine');
    await waitFor(async () => (await shards('mine')) === 6, { message: 'planned again from the followed change' });
    leader.close();
    expect(listeners.size).toBe(0);
  });

  describe('the assignment nodes as they stand', () => {
    const first = 'm-0123456789abcdef-0000000001';
    const second = 'm-fedcba9876543210-0000000002';
    const info = (id: string) => encodeMemberInfo({ id, host: 'h', pid: 1, jobs: ['tick'], labels: {}, capacity: 1, state: 'active' as const, startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL });
    const record = (generation: number, owners: (string | null)[]): AssignmentRecord => ({
      job: 'tick',
      shards: 4,
      generation,
      leader: 'm-old-0000000000',
      owners,
      disabled: [],
      pins: {},
      workers: Object.fromEntries(owners.filter((o): o is string => o !== null).map((o) => [o, o === first ? 'w1' : 'w2'])),
      updatedAt: '2026-12-05T00:00:00.000Z',
    });

    /** A fleet with one member and job `tick` whose assignment (all items to `first`) is at version 1. */
    async function setUp(tag: string) {
      ctx = new ZkTestContext(tag);
      const zk = await ctx.shared();
      const { paths } = ctx;
      await zk.mkdirp(paths.workers);
      await zk.mkdirp(paths.jobs);
      await zk.create(paths.job('tick'), jobRecord('tick', 4));
      await zk.create(paths.member(first), info('w1'), 'ephemeral');
      await zk.mkdirp(paths.assignments);
      await zk.create(assignmentPath(paths, 'tick'), encodeAssignments(record(1, [null, null, null, null])));
      await zk.setData(assignmentPath(paths, 'tick'), encodeAssignments(record(2, [first, first, first, first])), 0);
      const current = async () => {
        const node = await zk.getData(assignmentPath(paths, 'tick'));
        return { record: assignmentIn(node.data, 'tick'), stat: node.stat };
      };
      return { zk, paths, current };
    }

    it('a new leader starts from what a node holds: it moves only what a new member needs, on the node\'s version', async () => {
      const { zk, paths, current } = await setUp('leader-starts-from-nodes');
      leader = new LeaderCoordinator(zk, paths, first, silentLogger());
      const published: string[] = [];
      leader.on('published', (names) => published.push(...names));
      await leader.start();
      await waitFor(() => leader!.reconcilePasses > 0, { message: 'a first pass' });
      await zk.create(paths.member(second), info('w2'), 'ephemeral');
      await waitFor(() => published.length === 1, { message: 'items moved to the second member' });
      const now = await current();
      expect(now.stat.version).toBe(2); // one write, on version 1: nothing was refused
      expect(now.record!.generation).toBe(3);
      expect(now.record!.owners.filter((o) => o === first)).toHaveLength(2); // sticky: kept two
      expect(now.record!.owners.filter((o) => o === second)).toHaveLength(2);
    });

    it('a node someone else wrote is read again and written anew: garbage is replaced, every member fenced, the generation above any before', async () => {
      const { zk, paths, current } = await setUp('leader-foreign-write');
      await zk.create(paths.member(second), info('w2'), 'ephemeral');
      const lines: Array<{ msg: string; path?: string }> = [];
      leader = new LeaderCoordinator(zk, paths, first, pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as (typeof lines)[number]) }));
      const published: string[] = [];
      leader.on('published', (names) => published.push(...names));
      await leader.start();
      await waitFor(() => published.length === 1, { message: 'balanced over both members' });
      const balanced = await current();
      const membersBefore = await Promise.all([first, second].map((m) => zk.getData(paths.member(m))));

      await zk.setData(assignmentPath(paths, 'tick'), Buffer.from('{"garbage":'));
      await waitFor(() => published.length === 2, { message: 'the node written anew' });
      const repaired = await current();
      expect(repaired.record!.owners.every((o) => o === first || o === second)).toBe(true);
      expect(repaired.record!.generation).toBeGreaterThan(balanced.record!.generation + 1);
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['assignment node written by someone else; reading it again', 'malformed assignment node in ZooKeeper; planning its jobs anew']));
      // Who owned what was unknown: both members were fenced in the write that repaired it.
      for (const [k, m] of [first, second].entries()) {
        const node = await zk.getData(paths.member(m));
        expect(node.stat.version).toBe(membersBefore[k]!.stat.version + 1);
        expect(node.stat.mzxid).toBe(repaired.stat.mzxid);
      }

      // Removed by hand: made again.
      await zk.remove(assignmentPath(paths, 'tick'));
      await waitFor(() => published.length === 3, { message: 'the node made again' });
      expect((await current()).record!.owners.every((o) => o === first || o === second)).toBe(true);
    });
  });
});
