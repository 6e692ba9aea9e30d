import { afterEach, describe, expect, it } from 'vitest';
import { LeaderCoordinator } from '../../src/leader/leader-coordinator.js';
import { JOB_DEFAULTS } from '../../src/config/job-definition.js';
import { encodeJob } from '../../src/model/job-record.js';
import { decodeAssignment, encodeAssignment, type AssignmentRecord } from '../../src/model/assignment-record.js';
import { RUN_PROTOCOL, encodeMemberInfo } from '../../src/membership/member-info.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../../src/zk/multi-size.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { intercept } from '../support/intercept.js';

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

  it('publishes assignments larger than one multi may carry in several, each checking its membership', async () => {
    ctx = new ZkTestContext('leader-chunks');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const member = 'm-0123456789abcdef-0000000001';
    // 24 jobs of 2,000 items: about 1.6 MB of assignment records, more than one request may carry (DEFAULT_MAX_REQUEST_BYTES).
    const jobs = Array.from({ length: 24 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    await zk.mkdirp(paths.jobs);
    await zk.mkdirp(paths.workers);
    for (const name of jobs) await zk.create(paths.job(name), jobRecord(name, 2000));
    const info = { id: 'w1', host: 'h', pid: 1, jobs, labels: {}, capacity: 1, state: 'active' as const, startedAt: new Date().toISOString(), version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(member), encodeMemberInfo(info), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    const published: string[] = [];
    leader.on('published', (names) => published.push(...names));
    await leader.start();
    await waitFor(() => published.length === jobs.length, { timeoutMs: 30_000, message: 'every assignment published' });
    let total = 0;
    for (const name of jobs) {
      const found = await zk.getData(paths.assignment(name));
      total += found.data.length;
      const a = decodeAssignment(found.data)!;
      expect(a.owners).toHaveLength(2000);
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
    expect(await zk.exists(paths.assignment('tick'))).toBeNull();
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
    const assignment = await zk.getData(paths.assignment('tick'));
    const moved = decodeAssignment(assignment.data)!;
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

  it('plans a job from its definition as last written: resharded, and deleted then made again', async () => {
    ctx = new ZkTestContext('leader-redefined');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const member = 'm-0123456789abcdef-0000000001';
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.jobs);
    await zk.create(paths.job('tick'), jobRecord('tick', 2));
    const info = { id: 'w1', host: 'h', pid: 1, jobs: ['tick'], labels: {}, capacity: 1, state: 'active' as const, startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL };
    await zk.create(paths.member(member), encodeMemberInfo(info), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    await leader.start();
    const shardsNow = async (): Promise<number | undefined> => {
      const found = await zk.getDataIfExists(paths.assignment('tick'));
      return found ? decodeAssignment(found.data)?.owners.length : undefined;
    };
    await waitFor(async () => (await shardsNow()) === 2, { message: 'two items assigned' });
    await zk.setData(paths.job('tick'), jobRecord('tick', 5));
    await waitFor(async () => (await shardsNow()) === 5, { message: 'the reshard to five items planned' });
    // Deleted and made again: a newer write under the same name; the assignment follows it.
    await waitFor(
      async () => {
        await zk.remove(paths.assignment('tick')).catch(() => undefined);
        return zk.remove(paths.job('tick')).then(
          () => true,
          () => false, // the leader wrote the assignment again meanwhile
        );
      },
      { message: 'job deleted' },
    );
    await zk.create(paths.job('tick'), jobRecord('tick', 3));
    await waitFor(async () => (await shardsNow()) === 3, { message: 'the job made again planned with three items' });
  });

  describe('starting from the assignments its process follows (hints)', () => {
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
      await zk.create(paths.assignment('tick'), encodeAssignment(record(1, [null, null, null, null])));
      await zk.setData(paths.assignment('tick'), encodeAssignment(record(2, [first, first, first, first])), 0);
      const reads: string[] = [];
      const counted = intercept(zk, {
        getData: (original, path, ...rest) => {
          if (path === paths.assignment('tick')) reads.push(path);
          return original(path, ...rest);
        },
        getDataIfExists: (original, path, ...rest) => {
          if (path === paths.assignment('tick')) reads.push(path);
          return original(path, ...rest);
        },
      });
      return { zk, paths, counted, reads };
    }

    it('does not read an assignment it has a current hint of, and writes on its version', async () => {
      const { zk, paths, counted, reads } = await setUp('leader-hints');
      const hinted: string[] = [];
      const hints = {
        assignment: (job: string) => {
          hinted.push(job);
          return { data: encodeAssignment(record(2, [first, first, first, first])), version: 1 };
        },
      };
      leader = new LeaderCoordinator(counted, paths, first, silentLogger(), undefined, hints);
      const published: string[] = [];
      leader.on('published', (names) => published.push(...names));
      await leader.start();
      await waitFor(() => leader!.reconcilePasses > 0 && hinted.length > 0, { message: 'a first pass' });
      await zk.create(paths.member(second), info('w2'), 'ephemeral');
      await waitFor(() => published.length === 1, { message: 'items moved to the second member' });
      const now = decodeAssignment((await zk.getData(paths.assignment('tick'))).data)!;
      expect(now.generation).toBe(3);
      expect(now.owners.filter((o) => o === second)).toHaveLength(2);
      expect(reads).toEqual([]);
    });

    it('reads the assignment again when a stale hint made its write fail, and asks no hint of it again', async () => {
      const { zk, paths, counted, reads } = await setUp('leader-stale-hint');
      let hinted = 0;
      // What a cache of the node held before its last write: version 0.
      const hints = {
        assignment: () => {
          hinted++;
          return { data: encodeAssignment(record(1, [null, null, null, null])), version: 0 };
        },
      };
      leader = new LeaderCoordinator(counted, paths, first, silentLogger(), undefined, hints);
      await leader.start();
      // From the stale record every item is unowned: the leader writes them to `first`, at version 0: refused.
      await waitFor(async () => reads.length > 0 && decodeAssignment((await zk.getData(paths.assignment('tick'))).data)!.generation === 2, { message: 'read again' });
      await zk.create(paths.member(second), info('w2'), 'ephemeral');
      await waitFor(async () => decodeAssignment((await zk.getData(paths.assignment('tick'))).data)!.generation === 3, { message: 'moved on the version read' });
      const now = decodeAssignment((await zk.getData(paths.assignment('tick'))).data)!;
      expect(now.owners.filter((o) => o === second)).toHaveLength(2);
      expect(hinted).toBe(1);
    });
  });
});
