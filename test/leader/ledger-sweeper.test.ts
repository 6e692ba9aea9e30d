import { afterEach, describe, expect, it } from 'vitest';
import { LedgerSweeper } from '../../src/leader/ledger-sweeper.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { waitFor } from '../support/wait-for.js';
import { encodeProgress } from '../../src/model/progress-record.js';
import { encodeLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';
import { ZkTestContext } from '../support/zk-test-client.js';

describe('LedgerSweeper', () => {
  let ctx: ZkTestContext | undefined;
  let sweeper: LedgerSweeper | undefined;
  afterEach(async () => {
    sweeper?.close();
    await ctx?.close();
  });

  it('removes the ledgers of members gone, with their parts, and keeps those of live members', async () => {
    ctx = new ZkTestContext('ledger-sweeper');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const live = 'm-0123456789abcdef-0000000002';
    const gone = 'm-fedcba9876543210-0000000001';
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(live), undefined, 'ephemeral');
    for (const member of [live, gone]) {
      await zk.mkdirp(paths.ledger(member));
      for (const part of [3, 17]) await zk.create(paths.ledgerPart(member, part), Buffer.from('{"v":1,"j":{}}'));
    }
    sweeper = new LedgerSweeper(zk, paths, silentLogger());
    sweeper.schedule();
    await waitFor(async () => (await zk.exists(paths.ledger(gone))) === null, { timeoutMs: 10_000, message: "the gone member's ledger removed" });
    expect((await zk.getChildren(paths.ledger(live))).sort()).toEqual(['17', '3']);
  });

  it("keeps a gone member's ledger while it says something current of an item; removes it once another member wrote the item's record, or the item is gone", async () => {
    ctx = new ZkTestContext('ledger-sweeper-current');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const gone = 'm-fedcba9876543210-0000000001';
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.items('j'));
    // The gone member's last multi: its run of item 0 begun, its record written beside its ledger.
    await zk.create(paths.item('j', 0), encodeProgress({ lastScheduled: '2026-01-01T00:00:05.000Z' }, gone));
    await zk.create(paths.item('j', 1), encodeProgress({}));
    await zk.mkdirp(paths.ledger(gone));
    // In the positional form: the part, and its index below it (at version 1, as the part names).
    const fire = Date.UTC(2026, 0, 1, 0, 0, 5);
    await zk.create(paths.ledgerPart(gone, 7), Buffer.from(JSON.stringify({ v: 2, iv: 1, c: [[fire, '01']], f: [[fire, 1, '01']] })));
    await zk.create(paths.ledgerIndex(gone, 7));
    await zk.setData(paths.ledgerIndex(gone, 7), Buffer.from(JSON.stringify({ v: 2, j: [['j', '01']] })));
    await zk.setData(paths.item('j', 0), encodeProgress({ lastScheduled: '2026-01-01T00:00:05.000Z' }, gone)); // its own attempt update: after the ledger, by itself
    await zk.create(paths.ledgerPart(gone, 9), Buffer.from('not json'));
    sweeper = new LedgerSweeper(zk, paths, silentLogger());
    await sweeper.schedule();
    expect((await zk.getChildren(paths.ledger(gone))).sort()).toEqual(['7', '9']);
    // Another member takes the item over: its first write of the record supersedes the entry.
    await zk.setData(paths.item('j', 0), encodeProgress({ lastScheduled: '2026-01-01T00:00:05.000Z' }, 'm-0123456789abcdef-0000000003'));
    await sweeper.schedule();
    expect(await zk.exists(paths.ledger(gone))).toBeNull();
    // An item that is gone (its job removed) holds nothing back.
    await zk.mkdirp(paths.ledger(gone));
    await zk.create(paths.ledgerPart(gone, 7), encodeLedgerPart(new Map([['removed-job', { b: new Set(), f: new Map([[3, { fireMs: 1000, attempt: 1 }]]) }]])));
    await sweeper.schedule();
    expect(await zk.exists(paths.ledger(gone))).toBeNull();
  });

  it("looks at every item of a large ledger part (read a batch at a time): one current entry past the first batches keeps it", async () => {
    ctx = new ZkTestContext('ledger-sweeper-batches');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const gone = 'm-fedcba9876543210-0000000001';
    const other = 'm-0123456789abcdef-0000000003';
    const items = 600;
    await zk.mkdirp(paths.workers);
    await zk.mkdirp(paths.items('big'));
    await zk.mkdirp(paths.ledger(gone));
    await zk.create(paths.ledgerPart(gone, 4), encodeLedgerPart(new Map([['big', { t: 5000, b: new Set(Array.from({ length: items }, (_, i) => i)), f: new Map() }]])));
    // Every record written by another member after the part, but the last one: its own.
    const tx = zk.transaction();
    for (let i = 0; i < items; i++) tx.create(paths.item('big', i), encodeProgress({ lastScheduled: '2026-01-01T00:00:05.000Z' }, i === items - 1 ? gone : other));
    await zk.commit(tx);
    sweeper = new LedgerSweeper(zk, paths, silentLogger());
    await sweeper.schedule();
    expect(await zk.getChildren(paths.ledger(gone))).toEqual(['4']);
    await zk.setData(paths.item('big', items - 1), encodeProgress({ lastScheduled: '2026-01-01T00:00:06.000Z' }, other));
    await sweeper.schedule();
    expect(await zk.exists(paths.ledger(gone))).toBeNull();
  });

  it('does nothing while there are no ledgers', async () => {
    ctx = new ZkTestContext('ledger-sweeper-none');
    const zk = await ctx.shared();
    sweeper = new LedgerSweeper(zk, ctx.paths, silentLogger());
    sweeper.schedule();
    sweeper.schedule();
    sweeper.close();
    sweeper.close(); // idempotent
    expect(await zk.exists(ctx.paths.ledgers)).toBeNull();
  });
});
