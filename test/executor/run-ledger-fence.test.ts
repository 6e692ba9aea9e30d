import { afterEach, describe, expect, it } from 'vitest';
import { RunLedger, type LedgerMember } from '../../src/executor/run-ledger.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { flightIn } from '../support/ledger-holds.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { FIRE_DAY_MS } from '../support/fire-day.js';

const MEMBER = 'm-0123abcd-0000000001';

describe('RunLedger begins check the fence as of which the assignments are known', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
  });

  it('a begin sent after the leader moved an item away fails as a whole; once the view caught up, what is still ours begins and the moved item does not', async () => {
    ctx = new ZkTestContext('ledger-begin-fence');
    const zk = await ctx.shared();
    const { paths } = ctx;
    await zk.mkdirp(paths.items('job'));
    await zk.commit(zk.transaction().create(paths.item('job', 0)).create(paths.item('job', 1)));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(MEMBER), undefined, 'ephemeral');

    // What the worker knows: the items it owns, and the member node version its view is complete at.
    const owned = new Set([0, 1]);
    let settled = 0;
    const waiters: Array<{ above: number; resolve: (v: number) => void }> = [];
    const asked: number[] = [];
    const member: LedgerMember = {
      name: MEMBER,
      workerId: 'w1',
      fenceVersion: () => settled,
      refreshFence: async () => (await zk.exists(paths.member(MEMBER)))!.version,
      beginFence: () => settled,
      awaitBeginFence: (above) => {
        asked.push(above);
        return settled > above ? Promise.resolve(settled) : new Promise((resolve) => waiters.push({ above, resolve }));
      },
      owns: (_job, item) => owned.has(item),
    };
    const ledger = new RunLedger(zk, paths, member, silentLogger());
    const fire = (s: number) => new Date(FIRE_DAY_MS + s * 1000);
    const begin = (s: number) => ledger.begin([0, 1].map((item) => ({ job: 'job', item, fireTime: fire(s), attempt: 1 })));
    const release = (s: number, item: number) => ledger.release({ job: 'job', item, fireTime: fire(s), attempt: 1, outcome: 'success', durationMs: 1, keepInFlight: false });

    expect((await begin(1)).map((r) => r.status)).toEqual(['started', 'started']);
    expect(await Promise.all([release(1, 0), release(1, 1)])).toEqual([true, true]);

    // The leader moves item 1 away and fences us in the same transaction; we have not heard yet.
    await zk.setData(paths.member(MEMBER), Buffer.alloc(0), 0);
    let settledBegin = false;
    const begun = begin(2).finally(() => (settledBegin = true));
    await waitFor(() => asked.length === 1, { message: 'the begin waits for the view to catch up' });
    expect(asked).toEqual([0]);
    expect(settledBegin).toBe(false);
    // Nothing of the refused multi was applied.
    expect(await flightIn(zk, paths, MEMBER, 'job', 0)).toBeUndefined();
    expect(await flightIn(zk, paths, MEMBER, 'job', 1)).toBeUndefined();

    // Our view catches up: item 1 is another's now, and begins check version 1.
    owned.delete(1);
    settled = 1;
    for (const w of waiters.splice(0)) w.resolve(settled);
    expect((await begun).map((r) => r.status)).toEqual(['started', 'gone']);
    expect(await flightIn(zk, paths, MEMBER, 'job', 0)).toMatchObject({ fireMs: fire(2).getTime() });
    expect(await flightIn(zk, paths, MEMBER, 'job', 1)).toBeUndefined();
    expect(await release(2, 0)).toBe(true);

    // An item the scheduler no longer owns is never begun, even at the current fence.
    expect((await begin(3)).map((r) => r.status)).toEqual(['started', 'gone']);
    expect(await flightIn(zk, paths, MEMBER, 'job', 1)).toBeUndefined();
    expect(await release(3, 0)).toBe(true);
  });
});
