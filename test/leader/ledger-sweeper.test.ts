import { afterEach, describe, expect, it } from 'vitest';
import { LedgerSweeper } from '../../src/leader/ledger-sweeper.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { waitFor } from '../support/wait-for.js';
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
