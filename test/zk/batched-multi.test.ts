import { afterEach, describe, expect, it } from 'vitest';
import { commitBatched, type BatchedMultiHandlers, type RejectedDecision } from '../../src/zk/batched-multi.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { BadVersionError, NodeExistsError, NoNodeError } from '../../src/zk/zk-errors.js';
import { MIN_MAX_REQUEST_BYTES } from '../../src/zk/multi-size.js';
import type { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { zkConnect } from '../support/zk-connect.js';
import { ZkTestContext } from '../support/zk-test-client.js';

/** A request: create `a-<n>` and `b-<n>` under the test's root (two ops). */
interface Pair {
  n: number;
  data?: Buffer;
}

describe('commitBatched', () => {
  let ctx: ZkTestContext | undefined;
  let small: ZkClient | undefined;
  afterEach(async () => {
    await small?.close();
    await ctx?.close();
    small = undefined;
  });

  async function setup(name: string) {
    ctx = new ZkTestContext(name);
    const zk = await ctx.shared();
    const root = ctx.paths.root;
    await zk.mkdirp(root);
    const a = (n: number) => `${root}/a-${n}`;
    const b = (n: number) => `${root}/b-${n}`;
    const committed: Pair[][] = [];
    const rejected: Array<{ n: number; offset: number; reason: unknown }> = [];
    const handlers = (decide: (p: Pair, err: ZkTransactionError) => RejectedDecision | Promise<RejectedDecision>): BatchedMultiHandlers<Pair> => ({
      prefix: (tx) => tx.check(root),
      add: (tx, p) => {
        tx.create(a(p.n), p.data);
        tx.create(b(p.n));
      },
      committed: (done) => {
        for (const { request, results } of done) expect(results.map((r) => r.path)).toEqual([a(request.n), b(request.n)]);
        committed.push(done.map((d) => d.request));
      },
      rejected: (p, err, offset) => {
        rejected.push({ n: p.n, offset, reason: err.reason });
        return decide(p, err);
      },
    });
    const exists = async (n: number) => (await zk.exists(a(n))) !== null && (await zk.exists(b(n))) !== null;
    return { zk, root, a, b, committed, rejected, handlers, exists };
  }

  it('fills each multi in order up to maxRequestBytes and carries the rest to the next', async () => {
    const { root, committed, handlers, exists } = await setup('batched-split');
    small = new ZkClient({ connect: zkConnect(), maxRequestBytes: MIN_MAX_REQUEST_BYTES, logger: silentLogger() });
    await small.start();
    // 100 kB per request: 5 fit one 512 KiB request.
    const requests = Array.from({ length: 12 }, (_, n) => ({ n, data: Buffer.alloc(100_000, n) }));
    const outcome = await commitBatched(small, requests, handlers(() => 'drop'));
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]);
    expect(outcome).toEqual({ unsent: [], multis: 3, split: true });
    for (const p of requests) expect(await exists(p.n)).toBe(true);
    expect((await small.getChildren(root)).length).toBe(24);
  });

  it('maps a refused op back to its request (with its offset); a dropped one is left out, the others committed', async () => {
    const { zk, b, committed, rejected, handlers, exists } = await setup('batched-drop');
    await zk.create(b(2), Buffer.from('taken'));
    const requests = [0, 1, 2, 3].map((n) => ({ n }));
    const outcome = await commitBatched(zk, requests, handlers(() => 'drop'));
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ n: 2, offset: 1 });
    expect(rejected[0]!.reason).toBeInstanceOf(NodeExistsError);
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 1, 3]]);
    expect(outcome).toEqual({ unsent: [], multis: 1, split: false });
    expect(await Promise.all([0, 1, 3].map(exists))).toEqual([true, true, true]);
  });

  it('retry: the request goes again once the writer fixed what made it fail', async () => {
    const { zk, a, committed, handlers, exists } = await setup('batched-retry');
    await zk.create(a(1));
    const outcome = await commitBatched(zk, [{ n: 0 }, { n: 1 }], handlers(async (p): Promise<RejectedDecision> => {
      await zk.remove(a(p.n));
      return 'retry';
    }));
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 1]]);
    expect(outcome.unsent).toEqual([]);
    expect(await exists(1)).toBe(true);
  });

  it('stop: nothing more is sent; what was not committed comes back unsent, in order', async () => {
    const { zk, a, handlers, exists } = await setup('batched-stop');
    small = new ZkClient({ connect: zkConnect(), maxRequestBytes: MIN_MAX_REQUEST_BYTES, logger: silentLogger() });
    await small.start();
    await zk.create(a(6));
    const requests = Array.from({ length: 12 }, (_, n) => ({ n, data: Buffer.alloc(100_000) }));
    const outcome = await commitBatched(small, requests, handlers(() => 'stop'));
    expect(outcome.multis).toBe(1);
    expect(outcome.unsent.map((p) => p.n)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(await Promise.all(requests.map((p) => exists(p.n)))).toEqual(requests.map((p) => p.n < 5));
  });

  it('a refused prefix op stops everything and writes nothing', async () => {
    const { zk, root, handlers } = await setup('batched-prefix');
    let prefixErr: ZkTransactionError | undefined;
    const outcome = await commitBatched(zk, [{ n: 0 }, { n: 1 }], {
      ...handlers(() => 'drop'),
      prefix: (tx) => tx.check(`${root}/not-there`),
      prefixRejected: (err) => {
        prefixErr = err;
      },
    });
    expect(prefixErr?.reason).toBeInstanceOf(NoNodeError);
    expect(outcome.unsent.map((p) => p.n)).toEqual([0, 1]);
    expect(await zk.getChildren(root)).toEqual([]);
  });

  it('a refused prefix op can be answered: the prefix is rebuilt and what prefixRejected returns is sent again', async () => {
    const { zk, root, handlers, committed, exists } = await setup('batched-prefix-retry');
    await zk.create(`${root}/fence`);
    let version = 3; // not the node's version (0): the first multi is refused on its prefix
    const seen: Array<{ pending: number[]; reason: unknown }> = [];
    const outcome = await commitBatched(zk, [{ n: 0 }, { n: 1 }, { n: 2 }], {
      ...handlers(() => 'drop'),
      prefix: (tx) => tx.check(`${root}/fence`, version),
      prefixRejected: async (err, pending) => {
        seen.push({ pending: pending.map((p) => p.n), reason: err.reason });
        version = 0;
        return pending.filter((p) => p.n !== 1); // the writer settled request 1 otherwise
      },
    });
    expect(seen.map((s) => s.pending)).toEqual([[0, 1, 2]]);
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 2]]);
    expect(outcome.unsent).toEqual([]);
    expect(await Promise.all([0, 1, 2].map(exists))).toEqual([true, false, true]);
  });

  // 10,000 × 8 bench (2026-12-04): a begin multi the ledger writer filled by its reservations was
  // 1,156,825 bytes once its ledger parts were appended (they had grown since: other multis
  // committed before it), the client refused to send it, and the 983 runs it carried were not
  // begun at all ("could not begin runs"); their items stalled and were taken over.
  it('a multi that outgrew maxRequestBytes after it was filled (its suffix grew) is sent again in halves, nothing left out', async () => {
    const { root, committed, handlers, exists } = await setup('batched-outgrown');
    small = new ZkClient({ connect: zkConnect(), maxRequestBytes: MIN_MAX_REQUEST_BYTES, logger: silentLogger() });
    await small.start();
    await small.create(`${root}/grown`);
    const requests = Array.from({ length: 12 }, (_, n) => ({ n, data: Buffer.alloc(100_000, n) }));
    // 5 requests fit one multi by their own bytes; the suffix then adds 200 kB nobody set aside.
    const outcome = await commitBatched(small, requests, { ...handlers(() => 'drop'), suffix: (tx) => tx.setData(`${root}/grown`, Buffer.alloc(200_000, 1)) });
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]);
    expect(outcome).toEqual({ unsent: [], multis: 4, split: true });
    for (const p of requests) expect(await exists(p.n)).toBe(true);
  });

  it('suffix ops end each multi, built from the requests it carries; a refused one is answered like a prefix', async () => {
    const { zk, root, handlers, committed, exists } = await setup('batched-suffix');
    await zk.create(`${root}/fence`);
    let version = 5; // wrong at first: the first multi is refused on its suffix, nothing of it applied
    const suffixes: number[][] = [];
    const suffixResults: number[] = [];
    const refused: Array<{ pending: number[]; offset: number; reason: unknown }> = [];
    const base = handlers(() => 'drop');
    const outcome = await commitBatched(zk, [{ n: 0 }, { n: 1 }, { n: 2 }], {
      ...base,
      suffix: (tx, batch) => {
        suffixes.push(batch.map((p) => p.n));
        tx.setData(`${root}/fence`, Buffer.from(batch.map((p) => p.n).join(',')), version);
      },
      committed: (done, results) => {
        base.committed(done, results);
        suffixResults.push(...results.map((r) => r.stat!.version));
      },
      suffixRejected: (err, pending, offset) => {
        refused.push({ pending: pending.map((p) => p.n), offset, reason: err.reason });
        version = 0;
        return pending.filter((p) => p.n !== 0);
      },
    });
    expect(refused).toEqual([{ pending: [0, 1, 2], offset: 0, reason: expect.any(BadVersionError) }]);
    expect(suffixes).toEqual([[0, 1, 2], [1, 2]]);
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[1, 2]]);
    expect(suffixResults).toEqual([1]);
    expect(outcome.unsent).toEqual([]);
    expect(await Promise.all([0, 1, 2].map(exists))).toEqual([false, true, true]);
    expect((await zk.getData(`${root}/fence`)).data.toString()).toBe('1,2');
  });

  it('add() returning false leaves the request out for good', async () => {
    const { zk, committed, handlers, exists } = await setup('batched-skip');
    const base = handlers(() => 'drop');
    const outcome = await commitBatched(zk, [{ n: 0 }, { n: 1 }, { n: 2 }], { ...base, add: (tx, p) => (p.n === 1 ? false : base.add(tx, p)) });
    expect(committed.map((batch) => batch.map((p) => p.n))).toEqual([[0, 2]]);
    expect(outcome.unsent).toEqual([]);
    expect(await exists(1)).toBe(false);
  });

  it('a writer that always retries still ends after maxRounds', async () => {
    const { zk, a, handlers } = await setup('batched-rounds');
    await zk.create(a(0));
    let tries = 0;
    const outcome = await commitBatched(zk, [{ n: 0 }], handlers(() => (tries++, 'retry')), { maxRounds: 4 });
    expect(tries).toBe(4);
    expect(outcome.unsent.map((p) => p.n)).toEqual([0]);
  });

  it('an unknown outcome goes to unknown(): what it returns is sent again', async () => {
    const { zk, handlers, committed } = await setup('batched-unknown');
    const closed = new ZkClient({ connect: zkConnect(), logger: silentLogger() });
    await closed.start();
    await closed.close(); // every commit now fails before an answer: outcome unknown
    const seen: number[][] = [];
    const outcome = await commitBatched(closed, [{ n: 0 }, { n: 1 }], {
      ...handlers(() => 'drop'),
      unknown: async (sent, err) => {
        seen.push(sent.map((p) => p.n));
        expect(err.failedIndex).toBe(-1);
        return seen.length === 1 ? sent.filter((p) => p.n === 1) : 'stop';
      },
    });
    expect(seen).toEqual([[0, 1], [1]]);
    expect(outcome.unsent.map((p) => p.n)).toEqual([1]);
    expect(committed).toEqual([]);
    expect(await zk.getChildren(ctx!.paths.root)).toEqual([]);
  });
});
