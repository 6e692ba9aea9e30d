import { afterEach, describe, expect, it } from 'vitest';
import { RunLedger } from '../../src/executor/run-ledger.js';
import { StageStore } from '../../src/executor/stage-store.js';
import { readStageRecord } from '../../src/model/stage-record.js';
import { fireIdOf } from '../../src/executor/job-context.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { clearFromLedgers } from '../../src/api/ledger-clearing.js';
import { FIRE_DAY_MS } from '../support/fire-day.js';

const A = 'm-aaaaaaaa-0000000001';
const B = 'm-bbbbbbbb-0000000002';

/** Job `job` with item 0, member A (fenced by its member node's version), A's ledger and stage store. */
async function setUp(ctx: ZkTestContext) {
  const zk = await ctx.shared();
  const { paths } = ctx;
  await zk.mkdirp(paths.items('job'));
  await zk.create(paths.item('job', 0));
  await zk.mkdirp(paths.workers);
  await zk.create(paths.member(A), undefined, 'ephemeral');
  let known = 0;
  const refreshFence = async () => (known = (await zk.exists(paths.member(A)))!.version);
  const ledger = new RunLedger(zk, paths, { name: A, workerId: 'wa', fenceVersion: () => known, refreshFence }, silentLogger());
  return { zk, paths, ledger, store: new StageStore(zk, paths, ledger) };
}

describe('StageStore', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
  });

  it("records a completed stage at its clock's time, not the machine's (the simulation's time in the simulation)", async () => {
    ctx = new ZkTestContext('stages-clock');
    const zk = await ctx.shared();
    const { paths } = ctx;
    await zk.mkdirp(paths.items('job'));
    await zk.create(paths.item('job', 0));
    const at = Date.UTC(2031, 4, 6, 7, 8, 9);
    const fire = new Date(FIRE_DAY_MS);
    await new StageStore(zk, paths, undefined, { now: () => at }).forRun('job', 0, fireIdOf('job', fire, 0), fire).complete('fetch', 1);
    const stored = readStageRecord((await zk.getData(paths.stages('job', 0))).data, paths.stages('job', 0));
    expect(stored.ok && stored.value?.done.fetch?.at).toBe(new Date(at).toISOString());
  });

  // A forced reshard takes the runs of the items it removes from their owners' ledgers and fences
  // the owners (their member node's version moves, in the same transaction). A stage write of the
  // old run must then fail — once, it checked only that *a* marker existed, so once the item's next
  // run held one, the old run overwrote the new run's stage record (it lost its completed stages).
  for (const before of [false, true]) {
    it(`a run a forced operation took records no stage, even once the item's next run holds it (${before ? 'it recorded one before' : 'its first stage'})`, async () => {
    const { zk, paths, ledger, store } = await setUp((ctx = new ZkTestContext('stages-fenced')));
    await zk.create(paths.member(B), undefined, 'ephemeral');
    const fireA = new Date(FIRE_DAY_MS + 1 * 1000);
    const [begun] = await ledger.begin([{ job: 'job', item: 0, fireTime: fireA, attempt: 1 }]);
    expect(begun).toMatchObject({ status: 'started' });
    const oldRun = store.forRun('job', 0, fireIdOf('job', fireA, 0), fireA);
    if (before) await oldRun.complete('fetch', 1);

    // The forced operation: the run leaves its owner's ledger, its owner is fenced, in one transaction.
    const forced = zk.transaction();
    expect(await clearFromLedgers(zk, forced, paths, 'job', new Set([0]), { fence: true })).toMatchObject({ fenced: [A] });
    await zk.commit(forced);
    // The item's next run (on B) records a stage of its own.
    const fireB = new Date(FIRE_DAY_MS + 2 * 1000);
    const newRun = new StageStore(zk, paths).forRun('job', 0, fireIdOf('job', fireB, 0), fireB);
    await newRun.complete('fetch', 2);

    await expect(oldRun.complete('write', 1)).rejects.toMatchObject({ code: 'STAGE_FENCED' });
    const stored = readStageRecord((await zk.getData(paths.stages('job', 0))).data, paths.stages('job', 0));
    expect(stored.ok && stored.value).toMatchObject({ fireId: fireIdOf('job', fireB, 0), done: { fetch: { result: 2 } } });
    expect(stored.ok && Object.keys(stored.value!.done)).toEqual(['fetch']);
  });
  }

  // Run protocol v2, step 4b: a run is held by our ledger's `f` bit.
  it("after the fence moved, a run is held while our ledger has it in flight (a forced operation's clearing takes it): confirmFence, stage and attempt writes", async () => {
    const { zk, paths, ledger, store } = await setUp((ctx = new ZkTestContext('stages-own-ledger')));
    await zk.create(paths.item('job', 1));
    const fire = new Date(FIRE_DAY_MS + 1 * 1000);
    expect(await ledger.begin([0, 1].map((item) => ({ job: 'job', item, fireTime: fire, attempt: 1 })))).toMatchObject([{ status: 'started' }, { status: 'started' }]);
    // The fence moves with item 0 cleared from our ledger, item 1 left in it.
    const forced = zk.transaction();
    await clearFromLedgers(zk, forced, paths, 'job', new Set([0]), { fence: true });
    await zk.commit(forced);
    expect(await ledger.confirmFence('job', 0, fire)).toBe(false);
    expect(await ledger.confirmFence('job', 1, fire)).toBe(true);
    // The stages of a run are recorded by the same rule.
    await store.forRun('job', 1, fireIdOf('job', fire, 1), fire).complete('fetch', 1);
    await expect(store.forRun('job', 0, fireIdOf('job', fire, 0), fire).complete('fetch', 1)).rejects.toMatchObject({ code: 'STAGE_FENCED' });
    // And a retry's attempt.
    await ledger.recordAttempt('job', 1, fire, 2);
    await expect(ledger.recordAttempt('job', 0, fire, 2)).rejects.toMatchObject({ code: 'RUN_NOT_HELD' });
  });

  it("a run fenced by its own member node's update (not a forced operation) goes on recording stages while our ledger still holds it", async () => {
    const { zk, paths, ledger, store } = await setUp((ctx = new ZkTestContext('stages-refence')));
    const fire = new Date(FIRE_DAY_MS + 1 * 1000);
    expect((await ledger.begin([{ job: 'job', item: 0, fireTime: fire, attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
    const run = store.forRun('job', 0, fireIdOf('job', fire, 0), fire);
    await run.complete('fetch', 1);
    await zk.setData(paths.member(A), 'draining'); // our own update: the fence moves, the run stays in our ledger
    await run.complete('write', 2);
    const stored = readStageRecord((await zk.getData(paths.stages('job', 0))).data, paths.stages('job', 0));
    expect(stored.ok && Object.keys(stored.value!.done)).toEqual(['fetch', 'write']);
  });
});
