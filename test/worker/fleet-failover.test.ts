import { afterEach, describe, expect, it } from 'vitest';
import { Fleet, fleetConfig, RECORD_HANDLER, type RunRecord } from '../support/worker-process.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import type { AssignmentRecord } from '../../src/model/assignment-record.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { decodeMemberInfo } from '../../src/membership/member-info.js';
import { sortBySequence } from '../../src/zk/zk-paths.js';

const job = (name: string, extra: Record<string, unknown> = {}) => ({ name, cron: '* * * * * *', shards: 4, handler: RECORD_HANDLER, ...extra });

describe('worker fleet (processes): failover', () => {
  let ctx: ZkTestContext;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.close();
    await ctx?.close();
  });

  const client = () => ctx.shared();

  async function assignment(name: string): Promise<AssignmentRecord | undefined> {
    const zk = await client();
    return readAssignmentOf(zk, ctx.paths, name);
  }

  async function members(): Promise<Array<{ name: string; id: string }>> {
    const zk = await client();
    const names = sortBySequence(await zk.getChildren(ctx.paths.workers));
    const out = [];
    for (const name of names) {
      const data = await zk.getDataIfExists(ctx.paths.member(name));
      if (data) out.push({ name, id: decodeMemberInfo(data.data)!.id });
    }
    return out;
  }

  it('SIGKILL: the dead worker\'s items move at once and its interrupted fire runs again on the new owner (attempt 2)', async () => {
    ctx = new ZkTestContext('fleet-kill');
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [job('slow', { jobParameter: 'sleepMs=2500' })]));
    for (const id of ['w1', 'w2', 'w3']) fleet.start(id);
    await waitFor(async () => (await members()).length === 3, { timeoutMs: 20_000, message: '3 members' });
    await waitFor(async () => (await assignment('slow'))?.owners.every((o) => o !== null), { timeoutMs: 20_000, message: 'all items assigned' });

    // Wait until w2 is in the middle of a run, then kill it.
    const victim = fleet.workers[1]!;
    const running = (r: RunRecord[]) => r.filter((x) => x.worker === 'w2' && x.event === 'start' && !r.some((y) => y.event === 'end' && y.worker === 'w2' && y.item === x.item && y.fire === x.fire));
    await fleet.waitForRecords((r) => running(r).length > 0, 'w2 running an item', 20_000);
    const before = await assignment('slow');
    victim.kill('SIGKILL');
    const interrupted = running(fleet.records());
    expect(interrupted.length).toBeGreaterThan(0);

    // Its items are reassigned to survivors, and every interrupted fire runs again as attempt 2.
    await waitFor(async () => {
      const a = await assignment('slow');
      return a && a.generation > before!.generation && !Object.values(a.workers).includes('w2') && a.owners.every((o) => o !== null);
    }, { timeoutMs: 15_000, message: 'items reassigned away from w2' });
    await fleet.waitForRecords(
      (r) => interrupted.every((i) => r.some((x) => x.event === 'start' && x.item === i.item && x.fire === i.fire && x.attempt === 2 && x.worker !== 'w2')),
      'interrupted fires re-run as attempt 2 on a survivor',
      20_000,
    );
    const rerun = fleet.records().filter((x) => x.event === 'start' && x.attempt === 2);
    // The re-run carries a larger fencing token than the interrupted run.
    for (const i of interrupted) {
      const again = rerun.find((x) => x.item === i.item && x.fire === i.fire)!;
      expect(BigInt(again.token)).toBeGreaterThan(BigInt(i.token));
    }
    // No two runs of one item overlapped among live workers (the dead one stopped with its process).
    const starts = fleet.records().filter((x) => x.event === 'start' && x.worker !== 'w2');
    for (const s of starts) {
      const end = fleet.records().find((e) => e.event !== 'start' && e.worker === s.worker && e.item === s.item && e.fire === s.fire && e.attempt === s.attempt);
      const overlapping = starts.filter((o) => o !== s && o.item === s.item && o.at >= s.at && (end === undefined || o.at < end.at));
      expect(overlapping, `overlap on item ${s.item}`).toEqual([]);
    }
  });

  it('killing the leader elects its successor and leaves the survivors\' items where they were', async () => {
    ctx = new ZkTestContext('fleet-leader');
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [job('steady', { shards: 6, jobParameter: 'sleepMs=50' })]));
    for (const id of ['l1', 'l2', 'l3']) {
      fleet.start(id);
      await waitFor(async () => (await members()).some((m) => m.id === id), { timeoutMs: 20_000, message: `${id} joined` });
    }
    await waitFor(async () => {
      const a = await assignment('steady');
      return a && new Set(a.owners).size === 3;
    }, { timeoutMs: 20_000, message: 'items spread over 3 workers' });
    const [leader, successor] = await members();
    const before = (await assignment('steady'))!;
    expect(before.leader).toBe(leader!.name);

    fleet.workers.find((w) => w.id === leader!.id)!.kill('SIGKILL');
    await waitFor(async () => (await assignment('steady'))?.leader === successor!.name, { timeoutMs: 15_000, message: 'successor publishes' });
    const after = (await assignment('steady'))!;
    before.owners.forEach((owner, item) => {
      if (owner !== leader!.name) expect(after.owners[item], `item ${item} stays`).toBe(owner);
      else expect(after.owners[item]).not.toBe(leader!.name);
    });
    expect(after.owners.every((o) => o !== null)).toBe(true);
  });
});
