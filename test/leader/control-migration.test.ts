import { afterEach, describe, expect, it } from 'vitest';
import { migrateControls } from '../../src/leader/control-migration.js';
import { LeaderCoordinator } from '../../src/leader/leader-coordinator.js';
import { JOB_DEFAULTS } from '../../src/config/job-definition.js';
import { encodeJob } from '../../src/model/job-record.js';
import { decodeControl, encodeControl } from '../../src/model/job-control.js';
import { RUN_PROTOCOL, encodeMemberInfo } from '../../src/membership/member-info.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const jobRecord = (name: string): Buffer =>
  encodeJob({ ...JOB_DEFAULTS, name, cron: '0 0 0 1 1 *', shards: 2, itemParameters: {}, handler: './h.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 } });

describe('migrateControls', () => {
  let ctx: ZkTestContext | undefined;
  let leader: LeaderCoordinator | undefined;
  afterEach(async () => {
    leader?.close();
    await ctx?.close();
  });

  it('carries protocol 1\'s controls over once, never over a newer one; a job disabled before the upgrade stays disabled', async () => {
    ctx = new ZkTestContext('control-migration');
    const zk = await ctx.shared();
    const { paths } = ctx;
    await zk.mkdirp(paths.jobs);
    for (const job of ['a', 'b', 'c']) await zk.create(paths.job(job), jobRecord(job));
    await zk.create(paths.protocol1Control('a'), encodeControl({ disabled: true, disabledItems: [], pins: {} }));
    await zk.create(paths.protocol1Control('b'), encodeControl({ disabled: true, disabledItems: [], pins: {} }));
    await zk.mkdirp(paths.controls);
    await zk.create(paths.control('b'), encodeControl({ disabled: false, disabledItems: [1], pins: {} })); // written since: kept

    expect(await migrateControls(zk, paths, silentLogger())).toBe(1);
    expect(decodeControl((await zk.getData(paths.control('a'))).data).disabled).toBe(true);
    expect(decodeControl((await zk.getData(paths.control('b'))).data)).toEqual({ disabled: false, disabledItems: [1], pins: {} });
    expect(await zk.exists(paths.control('c'))).toBeNull();
    // Once per namespace: an old node made later is not looked for again.
    await zk.create(paths.protocol1Control('c'), encodeControl({ disabled: true, disabledItems: [], pins: {} }));
    expect(await migrateControls(zk, paths, silentLogger())).toBe(0);
    expect(await zk.exists(paths.control('c'))).toBeNull();

    // The leader plans from the carried-over control: job a's items are disabled.
    const member = 'm-0123456789abcdef-0000000001';
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(member), encodeMemberInfo({ id: 'w1', host: 'h', pid: 1, jobs: ['a', 'b', 'c'], labels: {}, capacity: 1, state: 'active', startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL }), 'ephemeral');
    leader = new LeaderCoordinator(zk, paths, member, silentLogger());
    await leader.start();
    await waitFor(async () => (await readAssignmentOf(zk, paths, 'a')) !== undefined, { message: 'job a assigned' });
    expect((await readAssignmentOf(zk, paths, 'a'))!.disabled).toEqual([0, 1]);
    expect((await readAssignmentOf(zk, paths, 'b'))!.disabled).toEqual([1]);
  });

  it('a new namespace: nothing to carry, marked done', async () => {
    ctx = new ZkTestContext('control-migration-new');
    const zk = await ctx.shared();
    expect(await migrateControls(zk, ctx.paths, silentLogger())).toBe(0);
    expect(JSON.parse((await zk.getData(ctx.paths.controls)).data.toString())).toEqual({ controlsFrom: 'protocol 1' });
  });
});
