import { afterEach, describe, expect, it } from 'vitest';
import { LedgerReads } from '../../src/scheduler/ledger-reads.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { encodeLedgerPart, ledgerPartOf, type LedgerPart } from '../../src/model/member-ledger.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const PARTS = 32;
const entry = (t: number, items: number[]): LedgerPart => new Map([['j', { t, b: new Set(items), f: new Map(items.map((i) => [i, { fireMs: t, attempt: 1 }])) }]]);

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
