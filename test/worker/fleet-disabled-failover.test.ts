import { afterEach, describe, expect, it } from 'vitest';
import { Fleet, fleetConfig, RECORD_HANDLER, type RunRecord } from '../support/worker-process.js';
import { readProgress, ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { decodeMemberInfo } from '../../src/membership/member-info.js';

/**
 * F1a of the adversarial review, reproduced end to end on worker processes: an item disabled while
 * it runs, its owner killed, the survivor owning it, the item enabled again. The interrupted fire
 * must run again (attempt 2) on the survivor; before the fix it was overwritten by the first
 * regular begin and never ran, nor was it recorded as missed.
 */
describe('worker fleet (processes): a fire interrupted while its item is disabled', () => {
  let ctx: ZkTestContext;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.close();
    await ctx?.close();
  });

  it('runs again on the new owner once the item is enabled', async () => {
    ctx = new ZkTestContext('fleet-disabled-failover');
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [{ name: 'slow', cron: '*/4 * * * * *', shards: 1, handler: RECORD_HANDLER, jobParameter: 'sleepMs=3500' }]));
    for (const id of ['d1', 'd2']) fleet.start(id);
    const zk = await ctx.shared();
    const ops = new FleetOperator(zk, ctx.paths);
    const owner = async (): Promise<string | undefined> => {
      const member = (await readAssignmentOf(zk, ctx.paths, 'slow'))?.owners[0];
      if (!member) return undefined;
      const info = await zk.getDataIfExists(ctx.paths.member(member));
      return info ? decodeMemberInfo(info.data)?.id : undefined;
    };
    await waitFor(async () => (await zk.getChildren(ctx.paths.workers)).length === 2, { timeoutMs: 20_000, message: 'two members' });

    // Wait for a run in progress, then disable the job while it runs and kill its owner.
    const running = (r: RunRecord[]) => r.find((x) => x.event === 'start' && !r.some((y) => y.event !== 'start' && y.fire === x.fire && y.attempt === x.attempt));
    await fleet.waitForRecords((r) => running(r) !== undefined, 'a run in progress', 20_000);
    const interrupted = running(fleet.records())!;
    await ops.disable('slow');
    fleet.workers.find((w) => w.id === interrupted.worker)!.kill('SIGKILL');
    const survivor = interrupted.worker === 'd1' ? 'd2' : 'd1';
    await waitFor(async () => (await owner()) === survivor, { timeoutMs: 20_000, message: `${survivor} owns the item` });
    // Stay disabled across at least one fire instant of the new owner.
    const ownedAt = Date.now();
    await waitFor(() => Date.now() > ownedAt + 4500, { timeoutMs: 10_000, message: 'a fire instant while disabled' });
    expect(fleet.records().filter((r) => r.event === 'start' && r.worker === survivor && Date.parse(r.fire) >= ownedAt)).toEqual([]);

    await ops.enable('slow');
    await fleet.waitForRecords(
      (r) => r.some((x) => x.event === 'start' && x.worker === survivor && x.fire === interrupted.fire && x.attempt === 2),
      `the interrupted fire ${interrupted.fire} re-run as attempt 2 on ${survivor}`,
      20_000,
    );
    const rerun = fleet.records().find((x) => x.event === 'start' && x.fire === interrupted.fire && x.attempt === 2)!;
    expect(BigInt(rerun.token)).toBeGreaterThan(BigInt(interrupted.token));
    // And the regular fires go on after it.
    await fleet.waitForRecords((r) => r.some((x) => x.event === 'start' && x.worker === survivor && x.attempt === 1 && Date.parse(x.fire) > Date.parse(rerun.fire)), 'a regular fire after the re-run', 20_000);
    expect((await readProgress(zk, ctx.paths, 'slow', 0)).lastScheduled).toBeDefined();
  });
});
