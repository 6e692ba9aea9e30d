import { afterEach, describe, expect, it } from 'vitest';
import { LedgerWriter } from '../../src/executor/ledger-writer.js';
import { LEFT_CLAIMS_CHECK_MS, LeftClaims } from '../../src/executor/left-claims.js';
import { encodeProgress } from '../../src/model/progress-record.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { FakeClock } from '../support/fake-clock.js';
import { waitFor } from '../support/wait-for.js';
import { ZkTestContext } from '../support/zk-test-client.js';

const MEMBER = 'm-0123456789abcdef-0000000001';
const OTHER = 'm-fedcba9876543210-0000000007';

// Run protocol v2, step 4c: a claim in a member's ledger is the item's frontier. The claim of an
// item that left stays until another member's record write carries it on (the new owner's first
// begin, whose takeover read it), or the item is gone; the old owner never writes the record.
describe('LeftClaims', () => {
  let ctx: ZkTestContext | undefined;
  let writer: LedgerWriter | undefined;
  let claims: LeftClaims | undefined;
  afterEach(async () => {
    claims?.close();
    writer?.close();
    await ctx?.close();
  });

  it('drops the claim of an item that left once another member wrote its record, or it is gone; keeps it until then, and for an item that came back', async () => {
    ctx = new ZkTestContext('left-claims');
    const zk: ZkClient = await ctx.shared();
    const paths: ZkPaths = ctx.paths;
    await zk.mkdirp(paths.items('j'));
    for (const item of [0, 1, 2, 3, 4]) await zk.create(paths.item('j', item), encodeProgress({}, MEMBER));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(MEMBER), undefined, 'ephemeral');
    const time = new FakeClock(Date.UTC(2026, 0, 1));
    const owned = new Set<number>();
    writer = new LedgerWriter({ zk, paths, member: { name: MEMBER }, time, log: silentLogger() });
    claims = new LeftClaims({ zk, ledger: writer, paths, member: { name: MEMBER, workerId: 'w', owns: (_job, item) => owned.has(item) }, time, log: silentLogger() });
    const tx = writer.transaction().check(paths.member(MEMBER));
    writer.change(tx, { begun: [0, 1, 2, 3, 4].map((item) => ({ job: 'j', item, fireMs: 5000, attempt: 1, scheduled: true })) });
    writer.change(tx, { ended: [0, 1, 2, 3, 4].map((item) => ({ job: 'j', item })) });
    await writer.commit(tx);
    for (const item of [0, 1, 2, 3, 4]) claims.add('j', item);
    // Item 0: its new owner's first begin writes the record. Item 1: removed. Item 2: nobody wrote
    // it yet. Item 3: came back to us.
    const r0 = await zk.getData(paths.item('j', 0));
    await zk.setData(paths.item('j', 0), encodeProgress({ lastScheduled: new Date(5000).toISOString() }, OTHER), r0.stat.version);
    await zk.remove(paths.item('j', 1));
    owned.add(3);
    await time.advance(LEFT_CLAIMS_CHECK_MS);
    await waitFor(() => writer!.claimOf('j', 0) === undefined && writer!.claimOf('j', 1) === undefined, { message: 'superseded and removed claims dropped' });
    expect(writer.claimOf('j', 2)).toBe(5000);
    expect(writer.claimOf('j', 3)).toBe(5000);
    // A record write of our own is no carrier: item 2 keeps its claim until another member writes
    // it (item 4's, written by another member in the same while, shows the look was made).
    const r2 = await zk.getData(paths.item('j', 2));
    await zk.setData(paths.item('j', 2), encodeProgress({}, MEMBER), r2.stat.version);
    const r4 = await zk.getData(paths.item('j', 4));
    await zk.setData(paths.item('j', 4), encodeProgress({}, OTHER), r4.stat.version);
    await time.advance(LEFT_CLAIMS_CHECK_MS);
    await waitFor(() => writer!.claimOf('j', 4) === undefined, { message: "item 4's claim dropped" });
    expect(writer.claimOf('j', 2)).toBe(5000);
    const again = await zk.getData(paths.item('j', 2));
    await zk.setData(paths.item('j', 2), encodeProgress({}, OTHER), again.stat.version);
    await time.advance(LEFT_CLAIMS_CHECK_MS);
    await waitFor(() => writer!.claimOf('j', 2) === undefined, { message: "item 2's claim dropped" });
    expect(writer.claimOf('j', 3)).toBe(5000);
  }, 30_000);
});
