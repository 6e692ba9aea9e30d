import { afterEach, describe, expect, it } from 'vitest';
import { RunWaits } from '../../src/scheduler/run-waits.js';
import { encodeLedgerPart, ledgerPartOf, type LedgerPart } from '../../src/model/member-ledger.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const PARTS = 32;
const inFlight = (items: number[], t = 5000): LedgerPart => new Map([['j', { t, b: new Set(items), f: new Map(items.map((i) => [i, { fireMs: t, attempt: 1 }])) }]]);

describe('RunWaits', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
  });

  it("a run another member's ledger has in flight is over when its part no longer has it, not when the part changes otherwise", async () => {
    ctx = new ZkTestContext('run-waits-ledger');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const holder = 'm-0123456789abcdef-0000000002';
    const part = paths.ledgerPart(holder, ledgerPartOf('j', PARTS));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(holder), undefined, 'ephemeral');
    await zk.mkdirp(paths.ledger(holder));
    await zk.create(part, encodeLedgerPart(inFlight([0, 1])));
    const ended: string[] = [];
    const calls = { part: 0, member: 0 };
    const counted = {
      getDataIfExists: ((path, watcher) => (path === part && calls.part++, zk.getDataIfExists(path, watcher))) as typeof zk.getDataIfExists,
      exists: ((path, watcher) => (path === paths.member(holder) && calls.member++, zk.exists(path, watcher))) as typeof zk.exists,
    };
    const waits = new RunWaits(counted, paths, PARTS, (job, item) => ended.push(`${job}#${item}`));
    waits.wait('j', 0, { member: holder });
    waits.wait('j', 0, { member: holder }); // one watch per item
    expect(waits.has('j#0')).toBe(true);
    // Item 1 released, item 0 still in flight; then the holder's member node is written (a fence).
    await zk.setData(part, encodeLedgerPart(inFlight([0])));
    await zk.setData(paths.member(holder), Buffer.from('fenced'));
    // Both read again after their watches fired (and those reads answered: one more round trip).
    await waitFor(() => calls.part === 2 && calls.member === 2, { timeoutMs: 10_000, message: 'part and member node read again' });
    await zk.exists(part);
    expect(ended).toEqual([]);
    expect(waits.has('j#0')).toBe(true);
    await zk.setData(part, encodeLedgerPart(inFlight([])));
    await waitFor(() => ended.length > 0, { timeoutMs: 10_000, message: 'the wait ended' });
    expect(ended).toEqual(['j#0']);
    expect(waits.size).toBe(0);
  });

  it("a run whose member is gone is over (cut short: the next round re-runs it), though its ledger stays", async () => {
    ctx = new ZkTestContext('run-waits-gone');
    const zk = await ctx.shared();
    const holderClient = await ctx.client();
    const { paths } = ctx;
    const holder = 'm-fedcba9876543210-0000000003';
    await zk.mkdirp(paths.workers);
    await holderClient.create(paths.member(holder), undefined, 'ephemeral');
    await zk.mkdirp(paths.ledger(holder));
    await zk.create(paths.ledgerPart(holder, ledgerPartOf('j', PARTS)), encodeLedgerPart(inFlight([2])));
    const ended: string[] = [];
    const waits = new RunWaits(zk, paths, PARTS, (job, item) => ended.push(`${job}#${item}`));
    waits.wait('j', 2, { member: holder });
    await zk.exists(paths.workers); // its first reads answered (one session: in order)
    expect(ended).toEqual([]);
    await holderClient.close(); // its session ends: its member node goes with it, its ledger stays
    await waitFor(() => ended.length === 1, { timeoutMs: 10_000, message: 'the wait ended' });
    expect(ended).toEqual(['j#2']);
  });

  it('the items waiting on one ledger part share its watch and one read per change; one that came late is judged by the last read', async () => {
    ctx = new ZkTestContext('run-waits-shared');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const holder = 'm-0123456789abcdef-0000000004';
    const part = paths.ledgerPart(holder, ledgerPartOf('j', PARTS));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(holder), undefined, 'ephemeral');
    await zk.mkdirp(paths.ledger(holder));
    await zk.create(part, encodeLedgerPart(inFlight([0, 1, 2])));
    const ended: string[] = [];
    let partReads = 0;
    const counted = {
      getDataIfExists: ((path, watcher) => (path === part && partReads++, zk.getDataIfExists(path, watcher))) as typeof zk.getDataIfExists,
      exists: ((path, watcher) => zk.exists(path, watcher)) as typeof zk.exists,
    };
    const waits = new RunWaits(counted, paths, PARTS, (job, item) => ended.push(`${job}#${item}`));
    for (const item of [0, 1, 2]) waits.wait('j', item, { member: holder });
    await zk.exists(part); // the first read answered
    expect(partReads).toBe(1);
    await zk.setData(part, encodeLedgerPart(inFlight([1, 2])));
    await waitFor(() => ended.length === 1, { timeoutMs: 10_000, message: 'item 0 released' });
    expect(ended).toEqual(['j#0']);
    expect(partReads).toBe(2); // one read for the three waits
    // A takeover whose (older) read still showed item 0 in flight waits on it again: the part as
    // last read says it is over, so it ends at once.
    waits.wait('j', 0, { member: holder });
    expect(ended).toEqual(['j#0', 'j#0']);
    await zk.setData(part, encodeLedgerPart(inFlight([])));
    await waitFor(() => ended.length === 4, { timeoutMs: 10_000, message: 'items 1 and 2 released' });
    expect(ended.slice(2).sort()).toEqual(['j#1', 'j#2']);
    expect(partReads).toBe(3);
    expect(waits.size).toBe(0);
  });
});
