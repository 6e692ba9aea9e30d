import { afterEach, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/executor/ledger-writer.js';
import { LEDGER_PARTS, ledgerPartOf, withTokens, type LedgerPart } from '../../src/model/member-ledger.js';
import { readLedgerPartNode } from '../../src/membership/read-ledger-node.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { systemClock } from '../../src/clock/clock.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import { ConnectionLossError } from '../../src/zk/zk-errors.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const MEMBER = 'm-0123456789abcdef-0000000001';

/** The member's whole ledger as stored: job → entry (every run's token set: see `tokenOf`). */
async function stored(zk: ZkClient, paths: ZkPaths): Promise<LedgerPart> {
  const all: LedgerPart = new Map();
  const parts = await zk.getChildren(paths.ledger(MEMBER)).catch(() => [] as string[]);
  for (const part of parts) {
    const path = `${paths.ledger(MEMBER)}/${part}`;
    const node = (await readLedgerPartNode(zk, path))!;
    const read = node.part;
    if (!read.ok) throw read.error;
    for (const [job, e] of withTokens(read.value, node.stat.mzxid)) all.set(job, e);
  }
  return all;
}

/** The zxid of the last write of `job`'s part of our ledger. */
async function partZxid(zk: ZkClient, paths: ZkPaths, job: string): Promise<bigint> {
  return (await zk.getData(paths.ledgerPart(MEMBER, ledgerPartOf(job, LEDGER_PARTS)))).stat.mzxid;
}

/** Commits a multi of ours that begins one scheduled run. */
async function beginOne(writer: LedgerWriter, paths: ZkPaths, job: string, item: number, fireMs: number): Promise<void> {
  const tx = writer.transaction().check(paths.member(MEMBER));
  writer.change(tx, { begun: [{ job, item, fireMs, attempt: 1, scheduled: true }] });
  await writer.commit(tx);
}

describe('LedgerWriter', () => {
  let ctx: ZkTestContext | undefined;
  let writer: LedgerWriter | undefined;
  afterEach(async () => {
    writer?.close();
    await ctx?.close();
  });

  async function setUp(name: string): Promise<{ zk: ZkClient; paths: ZkPaths; writer: LedgerWriter }> {
    ctx = new ZkTestContext(name);
    const zk = await ctx.shared();
    const { paths } = ctx;
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(MEMBER), undefined, 'ephemeral');
    writer = new LedgerWriter({ zk, paths, member: { name: MEMBER }, time: systemClock, log: silentLogger() });
    return { zk, paths, writer };
  }

  it('writes what each multi begins and ends beside its ops, in the parts of their jobs', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-basic');
    const tx = writer.transaction().check(paths.member(MEMBER));
    writer.change(tx, { begun: [0, 1, 2].map((item) => ({ job: 'a', item, fireMs: 5000, attempt: 1, scheduled: true })) });
    writer.change(tx, { begun: [{ job: 'b', item: 4, fireMs: 1000, attempt: 2, scheduled: false }] });
    await writer.commit(tx);
    // Every run's token is the zxid of the multi that began it.
    const first = await partZxid(zk, paths, 'a');
    let ledger = await stored(zk, paths);
    expect(ledger.get('a')).toEqual({ t: 5000, b: new Set([0, 1, 2]), f: new Map([0, 1, 2].map((i) => [i, { fireMs: 5000, attempt: 1, token: first }])) });
    expect(ledger.get('b')).toEqual({ b: new Set(), f: new Map([[4, { fireMs: 1000, attempt: 2, token: first }]]) }); // a re-run claims no instant

    const end = writer.transaction().check(paths.member(MEMBER));
    writer.change(end, { ended: [{ job: 'a', item: 1 }, { job: 'b', item: 4 }] });
    await writer.commit(end);
    expect(await partZxid(zk, paths, 'a')).toBeGreaterThan(first);
    ledger = await stored(zk, paths);
    expect(ledger.get('a')).toEqual({ t: 5000, b: new Set([0, 1, 2]), f: new Map([0, 2].map((i) => [i, { fireMs: 5000, attempt: 1, token: first }])) });
    expect(ledger.has('b')).toBe(false); // nothing claimed, nothing in flight: the entry goes

    // A later instant: the claims of the items not begun at it stay, as older claims (run protocol
    // v2, step 4c: a claim is the item's frontier); an item that left us gives its claim up when
    // told (`left`: its record has it now).
    const next = writer.transaction().check(paths.member(MEMBER));
    writer.change(next, { left: [{ job: 'a', item: 0 }], ended: [{ job: 'a', item: 0 }, { job: 'a', item: 2 }], begun: [{ job: 'a', item: 2, fireMs: 6000, attempt: 1, scheduled: true }] });
    await writer.commit(next);
    expect((await stored(zk, paths)).get('a')).toEqual({ t: 6000, b: new Set([2]), o: new Map([[1, 5000]]), f: new Map([[2, { fireMs: 6000, attempt: 1, token: await partZxid(zk, paths, 'a') }]]) });
    expect(writer.claimOf('a', 1)).toBe(5000);
    expect(writer.claimOf('a', 0)).toBeUndefined();
  });

  it('writes its parts positionally: an instant of the same items writes bits, its index only when items are new', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-positional');
    const jobs = Array.from({ length: 200 }, (_, j) => `a-rather-long-job-name-${j}`);
    const instant = async (fireMs: number, items: number[]) => {
      const tx = writer.transaction().check(paths.member(MEMBER));
      writer.change(tx, { ended: jobs.flatMap((job) => items.map((item) => ({ job, item }))), begun: jobs.flatMap((job) => items.map((item) => ({ job, item, fireMs, attempt: 1, scheduled: true }))) });
      await writer.commit(tx);
    };
    const k = writer.partOf(jobs[0]!);
    const part = async () => (await zk.getData(paths.ledgerPart(MEMBER, k))).data.toString();
    const index = async () => zk.getData(paths.ledgerIndex(MEMBER, k));
    await instant(5000, [0, 5]);
    const first = await index();
    expect(first.data.toString()).toContain(jobs[0]);
    await instant(6000, [0, 5]);
    expect((await index()).stat.version).toBe(first.stat.version); // the same items: the index stays
    const steady = await part();
    expect(steady).not.toContain('a-rather-long');
    expect(steady).toMatch(new RegExp(`^\\{"v":2,"iv":${first.stat.version},"c":\\[\\[6000,"f*0?[137f]"\\]\\],"f":\\[\\[6000,1,"f*0?[137f]"\\]\\]\\}$`));
    // Every part of the 200 jobs × 2 items: about two bits an item, not ~50 bytes a job.
    let bytes = 0;
    for (let p = 0; p < LEDGER_PARTS; p++) bytes += (await zk.getData(paths.ledgerPart(MEMBER, p))).data.length;
    expect(bytes).toBeLessThan(LEDGER_PARTS * 60);
    await instant(7000, [0, 5, 6]);
    expect((await index()).stat.version).toBe(first.stat.version + 1); // item 6 of every job: new positions
    expect((await stored(zk, paths)).get(jobs[0]!)).toEqual({ t: 7000, b: new Set([0, 5, 6]), f: new Map([0, 5, 6].map((i) => [i, { fireMs: 7000, attempt: 1, token: expect.any(BigInt) }])) });
  });

  it('has one multi in flight at a time: a begin and a release sent together both land', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-serial');
    await beginOne(writer, paths, 'a', 0, 1000);
    const release = writer.transaction().check(paths.member(MEMBER));
    writer.change(release, { ended: [{ job: 'a', item: 0 }] });
    const begin = writer.transaction().check(paths.member(MEMBER));
    writer.change(begin, { begun: [{ job: 'a', item: 1, fireMs: 2000, attempt: 1, scheduled: true }] });
    await Promise.all([writer.commit(release), writer.commit(begin)]); // unserialized, one would overwrite the other
    expect((await stored(zk, paths)).get('a')).toEqual({ t: 2000, b: new Set([1]), o: new Map([[0, 1000]]), f: new Map([[1, { fireMs: 2000, attempt: 1, token: await partZxid(zk, paths, 'a') }]]) });
  });

  it('a refused ledger write fails the multi whole; the next reads the ledger again and lands', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-stale');
    await beginOne(writer, paths, 'a', 0, 1000);
    const part = `${paths.ledger(MEMBER)}/${writer.partOf('a')}`;
    const { data } = await zk.getData(part);
    await zk.setData(part, data); // as an earlier multi of ours whose outcome we could not know would
    const tx = writer.transaction().create(`${paths.root}/marker`);
    writer.change(tx, { ended: [{ job: 'a', item: 0 }] });
    const err = await writer.commit(tx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkTransactionError);
    expect((err as ZkTransactionError).failedIndex).toBe(1); // the ledger write, after the multi's own op
    expect(await zk.exists(`${paths.root}/marker`)).toBeNull();
    const again = writer.transaction().create(`${paths.root}/marker`);
    writer.change(again, { ended: [{ job: 'a', item: 0 }] });
    await writer.commit(again);
    expect((await stored(zk, paths)).get('a')).toEqual({ t: 1000, b: new Set([0]), f: new Map() });
  });

  it('a malformed ledger of our own is logged and written anew', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-malformed');
    await beginOne(writer, paths, 'a', 0, 1000);
    const part = `${paths.ledger(MEMBER)}/${writer.partOf('a')}`;
    await zk.setData(part, Buffer.from('{"v":1,"j":{"a":{"f":"nonsense"}}}'));
    const end = () => {
      const tx = writer.transaction().check(paths.member(MEMBER));
      writer.change(tx, { ended: [{ job: 'a', item: 0 }] });
      return writer.commit(tx);
    };
    await expect(end()).rejects.toBeInstanceOf(ZkTransactionError);
    await end();
    expect((await stored(zk, paths)).get('a')).toEqual({ t: 1000, b: new Set([0]), f: new Map() });
  });

  it('a run whose marker was taken is cleared by a write of its own soon after', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-forget');
    await beginOne(writer, paths, 'a', 3, 1000);
    writer.forget('a', 3, 1000);
    writer.forget('a', 9, 1000); // never in flight: nothing to clear
    await waitFor(async () => (await stored(zk, paths)).get('a')?.f.size === 0, { timeoutMs: 5000, message: 'the forgotten run cleared' });
    expect(writer.inFlight('a').size).toBe(0);
  });

  it('a clear of a run leaves a later run of the item begun before the clear was written', async () => {
    const { zk, paths, writer } = await setUp('ledger-writer-forget-later');
    await beginOne(writer, paths, 'a', 3, 1000);
    writer.forget('a', 3, 1000);
    // Before the clear's own write (10 ms later), the item is begun again at a later fire: that
    // multi carries the clear (queued before it), and the later run stays in flight.
    const again = writer.transaction().check(paths.member(MEMBER));
    writer.change(again, { begun: [{ job: 'a', item: 3, fireMs: 2000, attempt: 1, scheduled: true }] });
    await writer.commit(again);
    writer.forget('a', 3, 1000); // late: the run it names is no longer in flight
    const stale = writer.transaction().check(paths.member(MEMBER));
    writer.change(stale, { ended: [{ job: 'a', item: 3, fireMs: 1000 }] });
    await writer.commit(stale);
    expect(writer.inFlight('a')).toEqual(new Map([[3, expect.objectContaining({ fireMs: 2000 })]]));
    expect((await stored(zk, paths)).get('a')?.f.get(3)).toMatchObject({ fireMs: 2000 });
  });

  it('a clear whose own write met a connection drop is written again a little later', async () => {
    const { zk, paths } = await setUp('ledger-writer-forget-retry');
    writer!.close();
    let drops = 1;
    // The client as the writer sees it, but the next multi fails as a lost connection fails it.
    const flaky = new Proxy(zk, {
      get(target, key, receiver) {
        if (key === 'commit') {
          return async (tx: Parameters<ZkClient['commit']>[0]) => {
            if (drops-- > 0) throw new ZkTransactionError(new ConnectionLossError('ZK_CONNECTION_LOSS', 'zk: multi: connection lost'), -1, undefined);
            return target.commit(tx);
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    writer = new LedgerWriter({ zk: flaky, paths, member: { name: MEMBER }, time: systemClock, log: silentLogger() });
    drops = 0;
    await beginOne(writer, paths, 'a', 3, 1000);
    drops = 1; // the forget's own write is lost
    writer.forget('a', 3, 1000);
    await waitFor(async () => (await stored(zk, paths)).get('a')?.f.size === 0, { timeoutMs: 5000, message: 'the forgotten run cleared by a later write' });
    expect(drops).toBe(-1); // one lost, one that landed
  });

  it('reserves the bytes of the parts a multi will rewrite', async () => {
    const { paths, writer } = await setUp('ledger-writer-reserve');
    const first = writer.transaction().check(paths.member(MEMBER));
    writer.change(first, { begun: Array.from({ length: 500 }, (_, i) => ({ job: `job-${i}`, item: 0, fireMs: 1000, attempt: 1, scheduled: true })) });
    await writer.commit(first);
    const tx = writer.transaction().check(paths.member(MEMBER));
    const before = tx.bytes;
    tx.check(paths.member(MEMBER));
    writer.reserve(tx, 'job-1', 0);
    writer.reserve(tx, 'job-1', 1); // the part and the entry once; the bitmaps as far as the items reach
    expect(tx.overLimit).toBe(false);
    const sized = new (tx.constructor as new (max: number) => typeof tx)(before + 200).check(paths.member(MEMBER));
    writer.reserve(sized, 'job-1', 0);
    expect(sized.overLimit).toBe(true); // the part (some 900 bytes at 500 jobs over 32 parts) does not fit
    sized.truncate(0);
    expect(sized.overLimit).toBe(false); // dropped with the ops it came after
  });
});
