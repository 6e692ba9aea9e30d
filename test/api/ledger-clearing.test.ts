import { afterEach, describe, expect, it } from 'vitest';
import { clearFromLedgers } from '../../src/api/ledger-clearing.js';
import { encodeLedgerPart, LEDGER_PARTS, ledgerPartOf, readLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';
import { BadVersionError } from '../../src/zk/zk-errors.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { JobAdmin } from '../../src/api/job-admin.js';
import { FleetOperator } from '../../src/api/fleet-operator.js';
import { testJob } from '../support/test-job.js';

const entry = (t: number, b: number[], f: number[], token?: bigint) => ({ t, b: new Set(b), f: new Map(f.map((i) => [i, { fireMs: t, attempt: 1, ...(token !== undefined && { token }) }])) });

describe('clearFromLedgers', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
  });

  it("writes each live member's part without the removed items (version-checked), leaves other jobs, gone members and untouched parts alone", async () => {
    ctx = new ZkTestContext('ledger-clearing');
    const zk = await ctx.shared();
    const { paths } = ctx;
    const live = 'm-0123456789abcdef-0000000002';
    const idle = 'm-aaaaaaaaaaaaaaaa-0000000003';
    const gone = 'm-fedcba9876543210-0000000001';
    const k = ledgerPartOf('j', LEDGER_PARTS);
    // Another job in the same part, so that the write keeps it.
    let other = 'o';
    for (let n = 0; ledgerPartOf(other, LEDGER_PARTS) !== k; n++) other = `o${n}`;
    await zk.mkdirp(paths.workers);
    for (const m of [live, idle]) await zk.create(paths.member(m), undefined, 'ephemeral');
    const parts: Record<string, LedgerPart> = {
      [live]: new Map([['j', entry(5000, [0, 1, 2], [1])], [other, entry(5000, [0], [0])]]),
      [idle]: new Map([['j', entry(4000, [3], [])]]),
      [gone]: new Map([['j', entry(3000, [1], [1])]]),
    };
    for (const [m, part] of Object.entries(parts)) {
      await zk.mkdirp(paths.ledger(m));
      await zk.create(paths.ledgerPart(m, k), encodeLedgerPart(part));
    }
    const read = async (m: string) => {
      const found = await zk.getData(paths.ledgerPart(m, k));
      const part = readLedgerPart(found.data, 'x');
      if (!part.ok) throw part.error;
      return part.value;
    };

    const tx = zk.transaction();
    // The runs the live part's last write began keep their token (that write's zxid) written out.
    const token = (await zk.getData(paths.ledgerPart(live, k))).stat.mzxid;
    // live runs item 1: taken from its ledger, and live fenced (its member node written) in the same multi.
    expect(await clearFromLedgers(zk, tx, paths, 'j', new Set([1, 2]), { fence: true })).toEqual({ written: [paths.ledgerPart(live, k)], running: [{ member: live, item: 1 }], fenced: [live] }); // idle names item 3 only; gone is final
    await zk.commit(tx);
    expect((await zk.exists(paths.member(live)))!.version).toBe(1);
    expect((await zk.exists(paths.member(idle)))!.version).toBe(0);
    expect(await read(live)).toEqual(new Map([['j', entry(5000, [0], [])], [other, entry(5000, [0], [0], token)]]));
    expect(await read(gone)).toEqual(parts[gone]);

    // The whole job: its entries go (an entry left with nothing goes too).
    const all = zk.transaction();
    // Fenced: the members whose runs it takes (here none: live's run of item 1 went above), in the same multi.
    const cleared = await clearFromLedgers(zk, all, paths, 'j', 'all', { fence: true });
    expect(cleared.written.sort()).toEqual([paths.ledgerPart(live, k), paths.ledgerPart(idle, k)].sort());
    expect(cleared).toMatchObject({ running: [], fenced: [] });
    await zk.commit(all);
    expect(await read(live)).toEqual(new Map([[other, entry(5000, [0], [0], token)]]));
    expect(await read(idle)).toEqual(new Map());

    // A member's write between the read and the multi refuses the multi.
    await zk.setData(paths.ledgerPart(idle, k), encodeLedgerPart(new Map([['j', entry(6000, [0], [0])]])));
    const raced = zk.transaction();
    await clearFromLedgers(zk, raced, paths, 'j', 'all');
    await zk.setData(paths.ledgerPart(idle, k), encodeLedgerPart(new Map([['j', entry(7000, [0], [0])]])));
    const err = await zk.commit(raced).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkTransactionError);
    expect((err as ZkTransactionError).reason).toBeInstanceOf(BadVersionError);
  });

  it("a reshard that meets a member's ledger write between its reads and its multi reads again and goes through, the removed items cleared", async () => {
    ctx = new ZkTestContext('ledger-clearing-reshard');
    const zk = await ctx.shared();
    const { paths } = ctx;
    await new JobAdmin(zk, paths).apply([testJob('r', { shards: 4, cron: '0 0 0 1 1 *' })]);
    const live = 'm-0123456789abcdef-0000000002';
    const k = ledgerPartOf('r', LEDGER_PARTS);
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member(live), undefined, 'ephemeral');
    await zk.mkdirp(paths.ledger(live));
    await zk.create(paths.ledgerPart(live, k), encodeLedgerPart(new Map([['r', entry(5000, [1, 3], [])]])));
    let commits = 0;
    // The member writes its part (a release of another job, say) while the first multi is on its way.
    const racing = new Proxy(zk, {
      get(target, prop, receiver) {
        if (prop === 'commit') {
          return async (tx: never) => {
            if (commits++ === 0) await target.setData(paths.ledgerPart(live, k), encodeLedgerPart(new Map([['r', entry(6000, [1, 3], [])]])));
            return target.commit(tx);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await new FleetOperator(racing, paths).reshard('r', 2);
    expect(commits).toBe(2);
    const read = readLedgerPart((await zk.getData(paths.ledgerPart(live, k))).data, 'x');
    expect(read.ok && read.value).toEqual(new Map([['r', entry(6000, [1], [])]]));
    expect(await zk.exists(paths.item('r', 3))).toBeNull();
  });
});
