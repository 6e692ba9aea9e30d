import { afterEach, describe, expect, it, vi } from 'vitest';
import { LedgerReads } from '../../src/scheduler/ledger-reads.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { encodeLedgerPart, ledgerPartOf, type LedgerPart } from '../../src/model/member-ledger.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const PARTS = 32;
const entry = (t: number, items: number[]): LedgerPart => new Map([['j', { t, b: new Set(items), f: new Map(items.map((i) => [i, { fireMs: t, attempt: 1 }])) }]]);

/** One live member whose ledger part for job `j` has item 0 begun at 5000. */
async function oneLiveMember(ctx: ZkTestContext) {
  const zk = await ctx.shared();
  const { paths } = ctx;
  const member = 'm-0123456789abcdef-0000000002';
  const k = ledgerPartOf('j', PARTS);
  await zk.mkdirp(paths.workers);
  await zk.create(paths.member(member), undefined, 'ephemeral');
  await zk.mkdirp(paths.ledger(member));
  await zk.create(paths.ledgerPart(member, k), encodeLedgerPart(entry(5000, [0])));
  return { zk, paths, member, k };
}

describe('LedgerReads', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
  });

  it("reads the job's part of every ledger with its member's liveness, shared by the takeovers that began before the reads", async () => {
    ctx = new ZkTestContext('ledger-reads');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const live = 'm-0123456789abcdef-0000000002';
    const gone = 'm-fedcba9876543210-0000000001';
    const empty = 'm-aaaaaaaaaaaaaaaa-0000000003';
    const k = ledgerPartOf('j', PARTS);
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(live), undefined, 'ephemeral');
    await zk.create(paths.member(empty), undefined, 'ephemeral');
    for (const member of [live, gone, empty]) await zk.mkdirp(paths.ledger(member));
    await zk.create(paths.ledgerPart(live, k), encodeLedgerPart(entry(5000, [0])));
    await zk.create(paths.ledgerPart(gone, k), encodeLedgerPart(entry(4000, [1])));
    let dataReads = 0;
    const counted = { getChildren: (p: string) => zk.getChildren(p), getDataIfExists: (p: string) => (dataReads++, zk.getDataIfExists(p)) };
    const reads = new LedgerReads(counted, paths, PARTS, silentLogger());

    const first = reads.ticket();
    const second = reads.ticket();
    const [a, b] = await Promise.all([reads.read('j', first), reads.read('j', second)]);
    expect(a).toBe(b); // one round of reads served both
    expect(dataReads).toBe(3);
    expect(a.complete).toBe(true);
    const byMember = new Map(a.parts.map((p) => [p.member, p]));
    expect(byMember.get(live)).toMatchObject({ live: true, entries: entry(5000, [0]) });
    expect(byMember.get(gone)).toMatchObject({ live: false, entries: entry(4000, [1]) });
    expect(byMember.get(empty)).toMatchObject({ live: true, mzxid: 0n, entries: new Map() }); // no such part: nothing begun
    expect(byMember.get(live)!.mzxid).toBe((await zk.exists(paths.ledgerPart(live, k)))!.mzxid);

    // A takeover that began after those reads is not served by them: it sees what was written since.
    await zk.setData(paths.ledgerPart(live, k), encodeLedgerPart(entry(6000, [0])));
    expect((await reads.read('j', first)).parts.find((p) => p.member === live)!.entries.get('j')!.t).toBe(5000);
    const third = reads.ticket();
    expect((await reads.read('j', third)).parts.find((p) => p.member === live)!.entries.get('j')!.t).toBe(6000);
    expect(dataReads).toBe(6);

    // Dropped: read afresh.
    reads.clear();
    await reads.read('j', first);
    expect(dataReads).toBe(9);
  });

  it('keeps at most one round reading and one waiting: takeovers that start during a round share the next', async () => {
    ctx = new ZkTestContext('ledger-reads-bounded');
    const { zk, paths, member, k } = await oneLiveMember(ctx);
    // A part's read is held, once made, until released: its round stays under way meanwhile.
    const held: Array<() => void> = [];
    let listings = 0;
    const gated = {
      getChildren: (p: string) => {
        if (p === paths.ledgers) listings++;
        return zk.getChildren(p);
      },
      getDataIfExists: async (p: string) => {
        const read = await zk.getDataIfExists(p);
        await new Promise<void>((resolve) => held.push(resolve));
        return read;
      },
    };
    const reads = new LedgerReads(gated, paths, PARTS, silentLogger());
    const tOf = (r: Promise<{ parts: Array<{ member: string; entries: LedgerPart }> }>) => r.then((x) => x.parts.find((p) => p.member === member)!.entries.get('j')!.t);

    const first = reads.read('j', reads.ticket());
    await vi.waitFor(() => expect(held).toHaveLength(1));
    // Three takeovers start one after another while the first round reads, with a write between.
    const second = reads.read('j', reads.ticket());
    await zk.setData(paths.ledgerPart(member, k), encodeLedgerPart(entry(6000, [0])));
    const third = reads.read('j', reads.ticket());
    const fourth = reads.read('j', reads.ticket());
    expect(listings).toBe(1); // no round begun beside the first
    held.shift()!();
    expect(await tOf(first)).toBe(5000);
    // The next round begins once the first is done, and serves all three (read after they began).
    await vi.waitFor(() => expect(held).toHaveLength(1));
    expect(listings).toBe(2);
    held.shift()!();
    const [b, c, d] = await Promise.all([second, third, fourth]);
    expect(b).toBe(c);
    expect(c).toBe(d);
    expect(await tOf(second)).toBe(6000);
    expect(listings).toBe(2);
  });

  it('lets the waiting round begin when the one before it fails, and never serves a later takeover from a failed round', async () => {
    ctx = new ZkTestContext('ledger-reads-failed');
    const { zk, paths, member } = await oneLiveMember(ctx);
    let fail: (err: Error) => void = () => undefined;
    let listings = 0;
    const failingOnce = {
      getChildren: (p: string) => {
        if (p === paths.ledgers && ++listings === 1) return new Promise<string[]>((_, reject) => (fail = reject));
        return zk.getChildren(p);
      },
      getDataIfExists: (p: string) => zk.getDataIfExists(p),
    };
    const reads = new LedgerReads(failingOnce, paths, PARTS, silentLogger());
    const firstTicket = reads.ticket();
    const first = reads.read('j', firstTicket);
    await vi.waitFor(() => expect(listings).toBe(1));
    const second = reads.read('j', reads.ticket());
    fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    expect((await second).parts.map((p) => p.member)).toEqual([member]);
    expect(listings).toBe(2);
    // A takeover with a ticket older than the failed round is served by a good one, not the failure.
    await expect(reads.read('j', firstTicket)).resolves.toMatchObject({ complete: true });
  });

  it('leaves out a part that cannot be read as a ledger and says the read is incomplete', async () => {
    ctx = new ZkTestContext('ledger-reads-malformed');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const bad = 'm-0123456789abcdef-0000000002';
    const good = 'm-fedcba9876543210-0000000001';
    const k = ledgerPartOf('j', PARTS);
    for (const member of [bad, good]) await zk.mkdirp(paths.ledger(member));
    await zk.create(paths.ledgerPart(bad, k), Buffer.from('not json'));
    await zk.create(paths.ledgerPart(good, k), encodeLedgerPart(entry(4000, [1])));
    const reads = new LedgerReads(zk, paths, PARTS, silentLogger());
    const read = await reads.read('j', reads.ticket());
    expect(read.complete).toBe(false);
    expect(read.parts.map((p) => p.member)).toEqual([good]);
  });
});
