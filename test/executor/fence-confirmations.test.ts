import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunLedger } from '../../src/executor/run-ledger.js';
import { FenceConfirmations } from '../../src/executor/fence-confirmations.js';
import { RunFences } from '../../src/executor/run-fences.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { clearFromLedgers } from '../../src/api/ledger-clearing.js';
import { FIRE_DAY_MS } from '../support/fire-day.js';

const A = 'm-aaaaaaaa-0000000001';
const ITEMS = 200;

describe('RunLedger.confirmFence', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await ctx?.close();
    ctx = undefined;
  });

  // An operator's forced remove takes some of a batch's runs and fences us: every run of the batch
  // then confirms its fence before its handler is entered. Each used to read our member node and
  // its ledger part on its own: 2,000 runs at one instant sent 4,000 reads, and the instant's
  // handlers were entered only once they had all come back.
  it('the runs that confirm their fence in one turn share one read of our member node and of each ledger part', async () => {
    ctx = new ZkTestContext('fence-confirm-shared');
    const zk = await ctx.shared();
    const { paths } = ctx;
    await zk.mkdirp(paths.items('job'));
    const items = Array.from({ length: ITEMS }, (_, i) => i);
    for (const item of items) await zk.create(paths.item('job', item));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(A), undefined, 'ephemeral');
    let known = 0;
    let memberReads = 0;
    const refreshFence = async () => {
      memberReads++;
      return (known = (await zk.exists(paths.member(A)))!.version);
    };
    const ledger = new RunLedger(zk, paths, { name: A, workerId: 'wa', fenceVersion: () => known, refreshFence }, silentLogger());
    const fire = new Date(FIRE_DAY_MS + 1000);
    const begun = await ledger.begin(items.map((item) => ({ job: 'job', item, fireTime: fire, attempt: 1 })));
    expect(begun.every((b) => b.status === 'started')).toBe(true);

    // The forced operation takes the even items' runs and moves our fence.
    const forced = zk.transaction();
    await clearFromLedgers(zk, forced, paths, 'job', new Set(items.filter((i) => i % 2 === 0)), { fence: true });
    await zk.commit(forced);
    expect(items.every((item) => ledger.fenceMoved('job', item))).toBe(false); // not known yet: no watch here
    await refreshFence();
    memberReads = 0;
    expect(items.filter((item) => ledger.fenceMoved('job', item))).toHaveLength(ITEMS);

    const reads = vi.spyOn(zk, 'getDataIfExists');
    const held = await Promise.all(items.map((item) => ledger.confirmFence('job', item, fire)));
    expect(held).toEqual(items.map((i) => i % 2 === 1));
    const ledgerReads = reads.mock.calls.filter(([path]) => path.startsWith(paths.ledger(A)));
    expect(memberReads).toBe(1);
    expect(ledgerReads.length).toBeLessThanOrEqual(2); // the job's part (and its index node, if it has one)
    // The runs still held are fenced anew: their handlers are entered without another read.
    expect(items.filter((item) => item % 2 === 1 && ledger.fenceMoved('job', item))).toEqual([]);
  });
});

describe('FenceConfirmations', () => {
  /** Our member node at `version`, read by `refresh` (each read waits until `release` is called). */
  function fakes() {
    const state = { version: 1, refreshes: 0, inLedger: new Set<number>([0, 1, 2]), ledgerReads: [] as number[][], forgotten: [] as number[] };
    const pending: Array<() => void> = [];
    const member = {
      name: A,
      workerId: 'wa',
      fenceVersion: () => state.version,
      refreshFence: () => {
        state.refreshes++;
        const at = state.version; // what the read finds: the node as it is when the read is sent
        return new Promise<number>((resolve) => pending.push(() => resolve(at)));
      },
    };
    const fences = new RunFences(member);
    const ledger = {
      readInFlight: async (runs: ReadonlyArray<{ item: number }>) => {
        state.ledgerReads.push(runs.map((r) => r.item));
        return runs.map((r) => (state.inLedger.has(r.item) ? { fireMs: FIRE_DAY_MS, attempt: 1 } : undefined)) as never;
      },
      forget: (_job: string, item: number) => void state.forgotten.push(item),
    };
    const release = () => pending.splice(0).forEach((go) => go());
    return { state, fences, confirmations: new FenceConfirmations(fences, ledger), release };
  }
  const fire = new Date(FIRE_DAY_MS);

  it('an ask made while a round reads waits for the next round: its answer is read after it asked', async () => {
    const { state, fences, confirmations, release } = fakes();
    for (const item of [0, 1, 2]) fences.set('job', item, 1);
    const first = confirmations.confirm('job', 0, fire);
    await Promise.resolve(); // the round has sent its read of the member node
    expect(state.refreshes).toBe(1);
    // A forced operation takes item 1's run and moves the fence; item 1 asks only now.
    state.version = 2;
    state.inLedger.delete(1);
    const second = confirmations.confirm('job', 1, fire);
    const third = confirmations.confirm('job', 2, fire);
    release();
    expect(await first).toBe(true);
    await vi.waitFor(() => expect(state.refreshes).toBe(2));
    release();
    expect(await Promise.all([second, third])).toEqual([false, true]);
    expect(state.ledgerReads).toEqual([[0], [1, 2]]);
    expect(state.forgotten).toEqual([1]);
    expect(fences.of('job', 2)).toBe(2); // fenced anew at the version read after it asked
  });

  it("every ask of a round fails with the round's read", async () => {
    const fences = new RunFences({ name: A, workerId: 'wa', fenceVersion: () => 1, refreshFence: () => Promise.reject(new Error('connection lost')) });
    const confirmations = new FenceConfirmations(fences, { readInFlight: async () => [], forget: () => {} });
    const asks = [0, 1].map((item) => confirmations.confirm('job', item, fire));
    for (const ask of asks) await expect(ask).rejects.toThrow('connection lost');
  });

  it('a run whose fence moved only by moves that took no run is confirmed without reading the ledger', async () => {
    const reads: unknown[] = [];
    const fences = new RunFences({ name: A, workerId: 'wa', fenceVersion: () => 3, refreshFence: async () => 3, fenceMovesTookNoRun: (from, to) => from === 1 && to === 3 });
    fences.set('job', 0, 1);
    const confirmations = new FenceConfirmations(fences, { readInFlight: async (runs) => (reads.push(runs), []), forget: () => {} });
    expect(await confirmations.confirm('job', 0, fire)).toBe(true);
    expect(reads).toEqual([]);
    expect(fences.of('job', 0)).toBe(3);
  });
});
