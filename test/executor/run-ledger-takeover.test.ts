import { afterEach, describe, expect, it } from 'vitest';
import { RunLedger } from '../../src/executor/run-ledger.js';
import { clearFromLedgers } from '../../src/api/ledger-clearing.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { decodeHistory, decodeProgress, encodeProgress, type ProgressRecord } from '../../src/model/progress-record.js';
import { holdersOf } from '../support/ledger-holds.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { readProgress, removeTree, ZkTestContext } from '../support/zk-test-client.js';
import { waitFor } from '../support/wait-for.js';
import { FIRE_DAY_MS } from '../support/fire-day.js';

const A = 'm-aaaaaaaaaaaaaaaa-0000000001';
const B = 'm-bbbbbbbbbbbbbbbb-0000000002';
const at = (s: number) => new Date(FIRE_DAY_MS + s * 1000);

/**
 * The run ledger against a real ZooKeeper, for the findings of the adversarial review: a takeover
 * that loses a fire (F1), a re-run that runs twice (F5), a release that writes over another run
 * (F7), and bookkeeping that wedges an item or erases its progress (F8).
 */
describe('RunLedger: lossless takeover and no wedged item', () => {
  let ctx: ZkTestContext;
  afterEach(async () => {
    await ctx?.close();
  });

  async function setup(prefix: string, record?: ProgressRecord): Promise<{ zk: ZkClient; a: RunLedger; b: RunLedger }> {
    ctx = new ZkTestContext(prefix);
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.items('job'));
    await zk.create(ctx.paths.item('job', 0), record ? encodeProgress(record) : undefined);
    await zk.mkdirp(ctx.paths.workers);
    await zk.create(ctx.paths.member(A), undefined, 'ephemeral');
    await zk.create(ctx.paths.member(B), undefined, 'ephemeral');
    const a = new RunLedger(zk, ctx.paths, { name: A, workerId: 'wa' }, silentLogger());
    const b = new RunLedger(zk, ctx.paths, { name: B, workerId: 'wb' }, silentLogger());
    return { zk, a, b };
  }
  const progress = async (zk: ZkClient) => decodeProgress((await zk.getData(ctx.paths.item('job', 0))).data);
  /** The members whose ledger has `job`'s `item` in flight (run protocol v2: they hold its run). */
  const holders = (zk: ZkClient, job = 'job', item = 0): Promise<string[]> => holdersOf(zk, ctx.paths, job, item);
  const release = (l: RunLedger, s: number, extra: Partial<Parameters<RunLedger['release']>[0]> = {}) =>
    l.release({ job: 'job', item: 0, fireTime: at(s), attempt: 1, outcome: 'success', durationMs: 1, keepInFlight: false, ...extra });

  it('F1: a scheduled begin never overwrites a fire another member left in flight; it answers takeover and writes nothing', async () => {
    const left: ProgressRecord = { lastScheduled: at(10).toISOString(), inFlight: { fireTime: at(10).toISOString(), attempt: 1, member: A, worker: 'wa', startedAt: at(10).toISOString() } };
    const { zk, b } = await setup('ledger-f1', left);
    const before = (await zk.getData(ctx.paths.item('job', 0))).stat.version;
    expect(await b.begin([{ job: 'job', item: 0, fireTime: at(20), attempt: 1 }])).toEqual([{ status: 'takeover' }]);
    expect((await zk.getData(ctx.paths.item('job', 0))).stat.version).toBe(before);
    expect(await holders(zk)).toEqual([]);
    // The takeover's re-run continues exactly that fire; then the scheduled one may begin.
    const [rerun] = await b.begin([{ job: 'job', item: 0, fireTime: at(10), attempt: 2, rerun: true, failovers: { count: 1, workers: ['wa'] } }]);
    expect(rerun).toMatchObject({ status: 'started' });
    expect((await progress(zk)).inFlight).toMatchObject({ fireTime: at(10).toISOString(), attempt: 2, member: B, failovers: 1, down: ['wa'] });
    expect(await release(b, 10, { attempt: 2 })).toBe(true);
    expect(await b.begin([{ job: 'job', item: 0, fireTime: at(20), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
  });

  it('F5: two members that both re-run one interrupted fire run it once (the second sees it taken on, even from a stale read)', async () => {
    const left: ProgressRecord = { lastScheduled: at(10).toISOString(), inFlight: { fireTime: at(10).toISOString(), attempt: 1, member: 'm-dead-0000000000', worker: 'wd', startedAt: at(10).toISOString() } };
    const { zk, a, b } = await setup('ledger-f5', left);
    // Both read the item while the fire was still in flight.
    await a.load('job', 0);
    await b.load('job', 0);
    const rerun = { job: 'job', item: 0, fireTime: at(10), attempt: 2, rerun: true } as const;
    expect(await a.begin([rerun])).toMatchObject([{ status: 'started' }]);
    // a still runs it: b's begin finds the record a's begin wrote and starts nothing (only the item's
    // owner begins it, and its takeover waits for a's run to leave a's ledger).
    const [meanwhile] = await b.begin([rerun]);
    expect(['duplicate', 'takeover']).toContain(meanwhile!.status);
    expect(await holders(zk)).toEqual([A]);
    expect(await release(a, 10, { attempt: 2 })).toBe(true);
    // b's cached record is stale (the fire still in flight, attempt 2): it never runs the fire
    // again. It answers duplicate or takeover (a takeover plans again from a fresh read, which
    // shows the fire done).
    const [again] = await b.begin([rerun]);
    expect(['duplicate', 'takeover']).toContain(again!.status);
    expect((await b.load('job', 0, true)).inFlight).toBeNull();
  });

  // (The item is removed here without the ledgers' clearing and the fence an operator's removal
  // makes.) A success ends a's run in a's ledger and writes nothing to the new item (run protocol
  // v2, step 4c: a success of a run its ledger alone held writes no record); a failure's record
  // write is refused (another node: made anew), and a's refused release clears a's run from a's
  // ledger by itself, a moment later.
  for (const [outcome, written] of [['success', true], ['failed', false]] as const) {
    it(`F7: a ${outcome} released after the item was made anew and begun by another member writes nothing to it and leaves that run alone`, async () => {
      const { zk, a, b } = await setup(`ledger-f7-${outcome}`);
      expect(await a.begin([{ job: 'job', item: 0, fireTime: at(10), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
      // A forced remove (or reshard --force shrink then grow) makes the item anew while a's run goes on.
      await removeTree(zk, ctx.paths.item('job', 0));
      await zk.create(ctx.paths.item('job', 0));
      await zk.setData(ctx.paths.item('job', 0), encodeProgress({}));
      await zk.setData(ctx.paths.item('job', 0), encodeProgress({}));
      expect(await b.begin([{ job: 'job', item: 0, fireTime: at(20), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
      const made = (await zk.getData(ctx.paths.item('job', 0))).stat.version;
      expect(await release(a, 10, { outcome, ...(outcome === 'failed' && { error: 'boom' }) })).toBe(written);
      await waitFor(async () => (await holders(zk)).length === 1, { timeoutMs: 5000, message: "a's run out of a's ledger" });
      expect(await holders(zk)).toEqual([B]);
      expect((await zk.getData(ctx.paths.item('job', 0))).stat.version).toBe(made);
      expect((await progress(zk)).lastScheduled).toBe(at(20).toISOString());
      expect(await release(b, 20)).toBe(true);
    });
  }

  // The residual the fleet simulation found (seeds 9386, 18908): the new item node reaches exactly
  // the data version the old run's release expects, so version checks alone cannot tell it; the
  // forced operation's fence (the owner's member node, bumped with the marker's removal) does.
  it('F7: a release after a forced reshard made the item anew at the very version it expects writes nothing', async () => {
    const { zk } = await setup('ledger-f7-fence');
    let known = 0;
    const fenced = { name: A, workerId: 'wa', fenceVersion: () => known, refreshFence: async () => (known = (await zk.exists(ctx.paths.member(A)))!.version) };
    const a = new RunLedger(zk, ctx.paths, fenced, silentLogger());
    const b = new RunLedger(zk, ctx.paths, { name: B, workerId: 'wb' }, silentLogger());
    expect(await a.begin([{ job: 'job', item: 0, fireTime: at(10), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
    const expected = (await zk.getData(ctx.paths.item('job', 0))).stat.version; // what a's release will check
    // reshard --force to 0 items: the item goes, the run leaves its owner's ledger, its owner is fenced, in one transaction.
    const tx = zk.transaction().remove(ctx.paths.item('job', 0));
    expect(await clearFromLedgers(zk, tx, ctx.paths, 'job', new Set([0]), { fence: true })).toMatchObject({ running: [{ member: A, item: 0 }], fenced: [A] });
    await zk.commit(tx);
    // reshard back: the item is made anew, and b's begin takes it to the same data version.
    await zk.create(ctx.paths.item('job', 0));
    expect(await b.begin([{ job: 'job', item: 0, fireTime: at(20), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
    expect((await zk.getData(ctx.paths.item('job', 0))).stat.version).toBe(expected);
    expect(await release(a, 10)).toBe(false);
    expect(await holders(zk)).toEqual([B]);
    expect((await progress(zk)).lastScheduled).toBe(at(20).toISOString());
    expect(await release(b, 20)).toBe(true);
    // a's later runs are not held back by the fence: it was read again and their begins came after it.
    expect(await a.begin([{ job: 'job', item: 0, fireTime: at(30), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
    expect(await release(a, 30)).toBe(true);
  });

  it('F8: an entry dropped from the progress cache between load and begin does not fail the batch', async () => {
    const { zk, a } = await setup('ledger-f8-cache');
    const internals = a as unknown as { progress: { delete(job: string, item: number): void }; load: RunLedger['load'] };
    const load = internals.load.bind(a);
    let dropped = false;
    internals.load = async (job, item, refresh) => {
      const record = await load(job, item, refresh);
      if (!dropped) {
        dropped = true;
        internals.progress.delete(job, item); // as a failed history write or a retire did
      }
      return record;
    };
    expect(await a.begin([{ job: 'job', item: 0, fireTime: at(10), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
    expect(await holders(zk)).toEqual([A]);
  });

  it('F8: a release whose cache entry was dropped reads the record first and never erases lastScheduled', async () => {
    const { zk, a } = await setup('ledger-f8-release');
    expect(await a.begin([{ job: 'job', item: 0, fireTime: at(10), attempt: 1 }])).toMatchObject([{ status: 'started' }]);
    (a as unknown as { progress: { delete(job: string, item: number): void } }).progress.delete('job', 0);
    expect(await release(a, 10)).toBe(true);
    // (A success of a run its ledger alone held writes no record: the begin's frontier stays.)
    expect(await progress(zk)).toMatchObject({ lastScheduled: at(10).toISOString() });
    expect(await a.load('job', 0)).toMatchObject({ lastScheduled: at(10).toISOString(), lastCompleted: at(10).toISOString(), inFlight: null, outcome: 'success' });
  });

  it('F8: a begin that fails after an earlier multi committed keeps those runs started and reports the rest, so nothing is left in flight unseen', async () => {
    ctx = new ZkTestContext('ledger-f8-split');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.workers);
    await zk.create(ctx.paths.member(A), undefined, 'ephemeral');
    const items = Array.from({ length: 12 }, (_, i) => i);
    await zk.mkdirp(ctx.paths.items('big'));
    const seed = zk.transaction();
    for (const item of items) seed.create(ctx.paths.item('big', item));
    await zk.commit(seed);
    // A client whose multis hold at most 5 items (as a full request would): the batch takes three,
    // and the second fails with an exception that is not a ZooKeeper answer (a bug).
    const small = await ctx.client();
    const transaction = small.transaction.bind(small);
    small.transaction = () => {
      const tx = transaction();
      const addIfFits = tx.addIfFits.bind(tx);
      tx.addIfFits = (adder, request, alone) => (tx.size >= 1 + 5 ? 'full' : addIfFits(adder, request, alone));
      return tx;
    };
    const commit = small.commit.bind(small);
    let commits = 0;
    small.commit = async (tx) => {
      // (The first multi makes our ledger's parts; the begins' are the second and third.)
      if (++commits === 3) throw new TypeError('a bug in the second multi');
      return commit(tx);
    };
    const ledger = new RunLedger(small, ctx.paths, { name: A, workerId: 'wa' }, silentLogger());
    const results = await ledger.begin(items.map((item) => ({ job: 'big', item, fireTime: at(10), attempt: 1 })));
    expect(results.map((r) => r.status)).toEqual([...Array(5).fill('started'), ...Array(7).fill('error')]);
    // Every started item is in flight in our ledger (it is run and released), every other one is not.
    const held = await Promise.all(items.map(async (i) => (await holders(zk, 'big', i)).length > 0));
    expect(held).toEqual(results.map((r) => r.status === 'started'));
  });

  it('poison: a fire given up is recorded as failed without a run (nothing put in flight)', async () => {
    const left: ProgressRecord = { lastScheduled: at(10).toISOString(), inFlight: { fireTime: at(10).toISOString(), attempt: 2, member: 'm-dead-0000000000', worker: 'wd', startedAt: at(10).toISOString(), failovers: 1, down: ['wc'] } };
    const { zk, a } = await setup('ledger-poison', left);
    const poison = { job: 'job', item: 0, fireTime: at(10), attempt: 3, rerun: true, poison: { reason: 'poisoned: cut short 2 times (wc, wd)' } } as const;
    expect(await a.begin([poison])).toEqual([{ status: 'poisoned', notes: {} }]);
    expect(await holders(zk)).toEqual([]);
    const p = await readProgress(zk, ctx.paths, 'job', 0);
    expect(p).toMatchObject({ inFlight: null, outcome: 'failed', lastCompleted: at(10).toISOString() });
    expect(p.recent?.[0]).toMatchObject({ outcome: 'failed', fireTime: at(10).toISOString(), error: 'poisoned: cut short 2 times (wc, wd)' });
    expect(await a.begin([poison])).toEqual([{ status: 'duplicate' }]);
  });

  // Found by the fleet simulation's invariant (i) (seeds 116, 159, 292, 368) after a CI run of
  // test/history/fleet-history.test.ts stored 11 rows for 7 seconds of one item: two takeovers
  // planned from one frontier each recorded the fires after it, so the history held them twice.
  it('fires taken over twice from one frontier are recorded once: each write records only the fires after the frontier, and moves it', async () => {
    const { zk, a, b } = await setup('ledger-notes-once', { lastScheduled: at(10).toISOString() });
    const everySecond = () => (t: Date) => new Date(Math.floor(t.getTime() / 1000) * 1000 + 1000);
    a.scheduleOf = everySecond;
    b.scheduleOf = everySecond;
    const notes = async () => decodeHistory((await zk.getDataIfExists(ctx.paths.history('job', 0)))?.data).filter((h) => h.outcome === 'missed').map((h) => `${h.fireTime.slice(17, 19)}: ${h.error}`);
    const from10 = { advanceFrom: at(10).toISOString() };
    expect(await a.recordNotes('job', 0, { missed: { count: 3, latest: at(13), earliest: at(11) } }, from10)).toBe(true);
    expect((await progress(zk)).lastScheduled).toBe(at(13).toISOString());
    // Planned from 10 as well: of 11-15 only 14 and 15 are recorded, and the frontier moves.
    expect(await b.recordNotes('job', 0, { missed: { count: 5, latest: at(15), earliest: at(11) } }, from10)).toBe(true);
    expect((await progress(zk)).lastScheduled).toBe(at(15).toISOString());
    // All of it behind the frontier: nothing is written.
    const version = (await zk.getData(ctx.paths.item('job', 0))).stat.version;
    expect(await a.recordNotes('job', 0, { missed: { count: 2, latest: at(15), earliest: at(14) } }, from10)).toBe(true);
    expect((await zk.getData(ctx.paths.item('job', 0))).stat.version).toBe(version);
    // A begin planned from 10 carrying 11-16 records 16 only (its result says so), and runs 17.
    const [begun] = await a.begin([{ job: 'job', item: 0, fireTime: at(17), attempt: 1, after: at(10), missed: { count: 6, latest: at(16), earliest: at(11) } }]);
    expect(begun).toMatchObject({ status: 'started', notes: { missed: { count: 1, latest: at(16), earliest: at(16) } } });
    expect((await progress(zk)).lastScheduled).toBe(at(17).toISOString());
    expect(await notes()).toEqual(['16: 1 fire(s) missed', '15: 2 fire(s) missed', '13: 3 fire(s) missed']);
  });

  // Found on the way to step 4c's second part (fleet simulation, seed 292 on that code): a worker
  // the item had just left recorded missed fires from a record read afresh; its write superseded
  // the new owner's ledger entries without what they held. Only the owner writes the record: a
  // notes write is fenced as a begin is and asks the assignment first.
  it('a member the item left records no notes: fenced as a begin, and only while it owns the item', async () => {
    const { zk } = await setup('ledger-notes-owner', { lastScheduled: at(10).toISOString() });
    let known = (await zk.exists(ctx.paths.member(A)))!.version;
    let owned = true;
    // The view catching up with the leader's move: the item is no longer ours.
    const catchUp = async () => {
      known = (await zk.exists(ctx.paths.member(A)))!.version;
      owned = false;
      return known;
    };
    const a = new RunLedger(zk, ctx.paths, { name: A, workerId: 'wa', beginFence: () => known, awaitBeginFence: catchUp, owns: () => owned }, silentLogger());
    const version = async () => (await zk.getData(ctx.paths.item('job', 0))).stat.version;
    const before = await version();
    // The item left us: nothing written.
    owned = false;
    expect(await a.recordNotes('job', 0, { missed: { count: 1, latest: at(11) } })).toBe(false);
    expect(await version()).toBe(before);
    // The leader moved items away (our member node written) and our view has not caught up: the
    // fence refuses the write; once it caught up, the item is not ours and nothing is written.
    owned = true;
    const node = await zk.getData(ctx.paths.member(A));
    await zk.setData(ctx.paths.member(A), node.data, node.stat.version);
    expect(await a.recordNotes('job', 0, { missed: { count: 1, latest: at(11) } })).toBe(false);
    expect(owned, 'the fence refused the write, and the view caught up').toBe(false);
    expect(await version()).toBe(before);
    // Ours: written.
    owned = true;
    expect(await a.recordNotes('job', 0, { missed: { count: 1, latest: at(11) } })).toBe(true);
    expect(await version()).toBe(before + 1);
  });
});
