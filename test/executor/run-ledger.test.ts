import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { RunLedger } from '../../src/executor/run-ledger.js';
import { DEFAULT_JVM_OPTIONS } from '../../src/testing/java.js';
import { createLogger, silentLogger } from '../../src/logging/create-logger.js';
import { decodeProgress, encodeProgress } from '../../src/model/progress-record.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { flightIn } from '../support/ledger-holds.js';
import { ConnectionLossError } from '../../src/zk/zk-errors.js';
import { systemClock, type Clock } from '../../src/clock/clock.js';
import { HISTORY_WRITE_INTERVAL_MS } from '../../src/executor/item-history-writer.js';
import { LEDGER_PARTS, ledgerPartOf, type LedgerEntry } from '../../src/model/member-ledger.js';
import { readLedgerPartNode } from '../../src/membership/read-ledger-node.js';
import { FIRE_DAY_MS } from '../support/fire-day.js';

/**
 * Drops the client's TCP connection (the session survives), as a server restart does; resolves
 * once the client is back on the same session.
 */
function dropConnection(zk: ZkClient): Promise<void> {
  const back = new Promise<void>((resolve) => {
    const onState = (state: string) => {
      if (state === 'reconnected') {
        zk.off('state', onState);
        resolve();
      }
    };
    zk.on('state', onState);
  });
  (zk as unknown as { cm: { socket?: { destroy(): void } } }).cm.socket?.destroy();
  return back;
}

describe('RunLedger when the connection drops mid-request', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  it('begin and release end consistent whether or not the lost multi was applied', async () => {
    server = new ZooKeeperServer();
    await server.start();
    zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 6000, logger: silentLogger() });
    await zk.start();
    const paths = new ZkPaths('ledger');
    await zk.mkdirp(paths.items('job'));
    await zk.create(paths.item('job', 0));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member('m-test-0000000001'), undefined, 'ephemeral');
    const ledger = new RunLedger(zk, paths, { name: 'm-test-0000000001', workerId: 'w' }, silentLogger());
    for (let round = 0; round < 12; round++) {
      const fireTime = new Date(FIRE_DAY_MS + round * 1000);
      await ledger.load('job', 0);
      const begun = ledger.begin([{ job: 'job', item: 0, fireTime, attempt: 1 }]);
      const reconnected = round % 2 === 1 ? dropConnection(zk) : new Promise<void>((resolve) => setImmediate(() => void dropConnection(zk!).then(resolve)));
      const [result] = await begun;
      await reconnected;
      expect(result, `round ${round}`).toMatchObject({ status: 'started' });
      // The item's frontier: the record's after the first begin (a begin after a read writes it),
      // our ledger's claim after (run protocol v2, step 4c), as the run ledger knows it either way.
      if (round === 0) expect(decodeProgress((await zk.getData(paths.item('job', 0))).data).lastScheduled).toBe(fireTime.toISOString());
      expect((await ledger.load('job', 0)).lastScheduled).toBe(fireTime.toISOString());
      // The member's ledger says the same, whichever way the lost multi went.
      expect(await ledgerEntry(zk, paths, 'm-test-0000000001', 'job')).toEqual({ t: fireTime.getTime(), b: new Set([0]), f: new Map([[0, { fireMs: fireTime.getTime(), attempt: 1 }]]) });

      const released = ledger.release({ job: 'job', item: 0, fireTime, attempt: 1, outcome: 'success', durationMs: 1, keepInFlight: false });
      const reconnectedAgain = new Promise<void>((resolve) => setTimeout(() => void dropConnection(zk!).then(resolve), round % 3));
      expect(await released, `round ${round}`).toBe(true);
      await reconnectedAgain;
      // A success of a run our ledger alone held ends there: the record is as the first begin left it.
      const progress = decodeProgress((await zk.getData(paths.item('job', 0))).data);
      expect(progress.inFlight ?? null).toBeNull();
      expect((await ledgerEntry(zk, paths, 'm-test-0000000001', 'job'))?.f).toEqual(new Map());
    }
  });
});

/** A job's entry in a member's ledger, as stored (undefined when it has none). */
async function ledgerEntry(zk: ZkClient, paths: ZkPaths, member: string, job: string): Promise<LedgerEntry | undefined> {
  const path = paths.ledgerPart(member, ledgerPartOf(job, LEDGER_PARTS));
  const read = (await readLedgerPartNode(zk, path))?.part ?? { ok: true as const, value: new Map<string, LedgerEntry>() };
  if (!read.ok) throw read.error;
  return read.value.get(job);
}

/**
 * The client `zk` as the ledger sees it, except that the first read matching `armed` (once set)
 * meets a connection drop: the connection is cut (the session survives and the client reconnects)
 * and the read fails as the client fails it, with a `ConnectionLossError`.
 */
function cutOnRead(zk: ZkClient): { client: ZkClient; arm(match: (op: string, path: string) => boolean): void; cuts: Array<Promise<void>> } {
  let armed: ((op: string, path: string) => boolean) | undefined;
  const cuts: Array<Promise<void>> = [];
  const client = new Proxy(zk, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop !== 'getData' && prop !== 'getDataIfExists' && prop !== 'exists') return (value as (...a: unknown[]) => unknown).bind(target);
      return (path: string, ...rest: unknown[]) => {
        if (armed?.(prop, path)) {
          armed = undefined;
          cuts.push(dropConnection(target));
          return Promise.reject(new ConnectionLossError('ZK_CONNECTION_LOSS', `zk: ${prop} ${path} failed: CONNECTION_LOSS[-4]`, { zkCode: -4, path }));
        }
        return (value as (...a: unknown[]) => unknown).call(target, path, ...rest);
      };
    },
  });
  return { client, arm: (match) => void (armed = match), cuts };
}

// Fleet simulation, seed 36648: a release batch went out with two fence checks (runs begun before
// and after our member node's own update), was refused, and the read of the member node that
// follows met a connection drop. The releaser gave the whole batch up ("run outcome not recorded
// (marker lost)") though the session lived on: its runs stayed held, the item's next owner waited
// for their release for good, and its fires were neither run nor recorded. A read a release needs
// that meets a connection drop is made again once the session is usable.
describe('RunLedger releases whose reads meet a connection drop', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  const cases: Array<{ name: string; read: (paths: ZkPaths) => (op: string, path: string) => boolean; foreignWrite?: boolean }> = [
    { name: 'the re-read of our member node after a refused fence check', read: (paths) => (_op, path) => path === paths.member(MEMBER) },
    { name: 'the check of our own ledger after a refused fence check', read: (paths) => (_op, path) => path === paths.ledgerPart(MEMBER, ledgerPartOf('job', LEDGER_PARTS)) },
    { name: "the re-read of an item's record another writer changed", read: (paths) => (_op, path) => path === paths.item('job', 1), foreignWrite: true },
  ];
  for (const c of cases) {
    it(`${c.name}: every release is written once the session is usable again, no run stays in flight`, async () => {
      server = new ZooKeeperServer();
      await server.start();
      zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 8000, logger: silentLogger() });
      await zk.start();
      const paths = new ZkPaths(`ledger-cut-${cases.indexOf(c)}`);
      await seedLedger(zk, paths, 0, 0);
      await zk.mkdirp(paths.items('job'));
      await zk.commit(zk.transaction().create(paths.item('job', 0)).create(paths.item('job', 1)));
      const cut = cutOnRead(zk);
      const member = paths.member(MEMBER);
      let known = 0;
      const refreshFence = async () => (known = (await cut.client.exists(member))!.version);
      const ledger = new RunLedger(cut.client, paths, { name: MEMBER, workerId: 'worker-1', fenceVersion: () => known, refreshFence }, silentLogger());
      const fireTime = new Date(FIRE_DAY_MS + 1 * 1000);
      expect((await ledger.begin([{ job: 'job', item: 0, fireTime, attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
      // Our own update of the member node (a drain, say): the next run begins at fence 1.
      await zk.setData(member, 'updated');
      await refreshFence();
      expect((await ledger.begin([{ job: 'job', item: 1, fireTime, attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
      if (c.foreignWrite) {
        // Someone else writes item 1's record (its run stays in flight as ours): the release's version check fails.
        const stored = await zk.getData(paths.item('job', 1));
        await zk.setData(paths.item('job', 1), stored.data, stored.stat.version);
      }
      cut.arm(c.read(paths));
      // Failures: their releases write the records (a success of a run our ledger alone holds writes only our ledger).
      const written = await Promise.all([0, 1].map((item) => ledger.release({ job: 'job', item, fireTime, attempt: 1, outcome: 'failed', error: 'boom', durationMs: 5, keepInFlight: false })));
      expect(cut.cuts, 'the connection was cut during a read').toHaveLength(1);
      await Promise.all(cut.cuts);
      expect(written).toEqual([true, true]);
      for (const item of [0, 1]) {
        expect(await flightIn(zk, paths, MEMBER, 'job', item), `item ${item} in flight in our ledger`).toBeUndefined();
        expect(decodeProgress((await zk.getData(paths.item('job', item))).data)).toMatchObject({ inFlight: null, outcome: 'failed', lastCompleted: fireTime.toISOString() });
      }
    }, 60_000);
  }
});

describe('RunLedger.dropOrphanRun', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  // A takeover found a run in flight in our ledger that no run of ours holds: it leaves the ledger,
  // but only while the item's record (which every begin writes) is as last loaded, and only that run.
  it("takes our run out of our ledger only while the item's record is as last loaded, and never a later run", async () => {
    server = new ZooKeeperServer();
    await server.start();
    zk = new ZkClient({ connect: server.connectString, logger: silentLogger() });
    await zk.start();
    const paths = new ZkPaths('ledger-orphan');
    const { ledger } = await seedLedger(zk, paths, 1, 1);
    const job = 'job-0000';
    const fire = (s: number) => new Date(FIRE_DAY_MS + s * 1000);
    const ours = async () => (await flightIn(zk!, paths, MEMBER, job, 0))?.fireMs;
    expect((await ledger.begin([{ job, item: 0, fireTime: fire(1), attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
    await ledger.load(job, 0, true);
    // Someone writes the item's record meanwhile: nothing is taken, the caller loads and looks again.
    const stored = await zk.getData(paths.item(job, 0));
    await zk.setData(paths.item(job, 0), stored.data, stored.stat.version);
    expect(await ledger.dropOrphanRun(job, 0, fire(1).getTime())).toBe(false);
    expect(await ours()).toBe(fire(1).getTime());
    await ledger.load(job, 0, true);
    expect(await ledger.dropOrphanRun(job, 0, fire(1).getTime())).toBe(true);
    expect(await ours()).toBeUndefined();
    // The fire is run again (the takeover's plan), then the next one begins: a later run than the one
    // a late drop names, which stays.
    await ledger.load(job, 0, true);
    expect((await ledger.begin([{ job, item: 0, fireTime: fire(1), attempt: 2, rerun: true }]))[0]).toMatchObject({ status: 'started' });
    expect(await ledger.release({ job, item: 0, fireTime: fire(1), attempt: 2, outcome: 'success', durationMs: 1, keepInFlight: false })).toBe(true);
    expect((await ledger.begin([{ job, item: 0, fireTime: fire(2), attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
    await ledger.load(job, 0, true);
    expect(await ledger.dropOrphanRun(job, 0, fire(1).getTime())).toBe(true);
    expect(await ours()).toBe(fire(2).getTime());
  }, 60_000);
});

// Run protocol v2, step 4c: a run is held by its member's ledger alone; the item's record is
// written for what others must know of it (a failure, a re-run and its failovers, a run handed back).
describe('RunLedger: what a begin and a release write', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });
  const connect = async (): Promise<ZkClient> => {
    server = new ZooKeeperServer();
    await server.start();
    const client = new ZkClient({ connect: server.connectString, logger: silentLogger() });
    await client.start();
    return client;
  };

  it('a success of a run our ledger alone holds writes no record; a failure, a re-run and a run handed back do', async () => {
    zk = await connect();
    const paths = new ZkPaths('ledger-exceptions');
    const { ledger } = await seedLedger(zk, paths, 1, 4);
    const job = 'job-0000';
    const fire = new Date(FIRE_DAY_MS + 1 * 1000);
    const record = async (item: number) => {
      const { data, stat } = await zk!.getData(paths.item(job, item));
      return { progress: decodeProgress(data), version: stat.version };
    };
    const begun = await ledger.begin([0, 1, 2, 3].map((item) => ({ job, item, fireTime: fire, attempt: 1 })));
    expect(begun.map((r) => r.status)).toEqual(['started', 'started', 'started', 'started']);
    // The begin moved each item's frontier; the run is in our ledger, not in the record.
    const before = await Promise.all([0, 1, 2, 3].map(record));
    for (const { progress } of before) {
      expect(progress.lastScheduled).toBe(fire.toISOString());
      expect(progress.inFlight ?? null).toBeNull();
    }
    for (const item of [0, 1, 2, 3]) expect((await flightIn(zk, paths, MEMBER, job, item))?.fireMs).toBe(fire.getTime());
    const end = (item: number, outcome: 'success' | 'failed' | 'interrupted') =>
      ledger.release({ job, item, fireTime: fire, attempt: 1, outcome, durationMs: 4, keepInFlight: outcome === 'interrupted', ...(outcome === 'failed' && { error: 'boom' }) });
    expect(await Promise.all([end(0, 'success'), end(1, 'failed'), end(2, 'interrupted')])).toEqual([true, true, true]);
    for (const item of [0, 1, 2]) expect(await flightIn(zk, paths, MEMBER, job, item), `item ${item}`).toBeUndefined();
    // The success: the record is untouched; what the worker knows of it goes to the history.
    expect(await record(0)).toEqual(before[0]);
    expect(await ledger.load(job, 0)).toMatchObject({ lastCompleted: fire.toISOString(), outcome: 'success' });
    // The failure and the run handed back: written.
    expect((await record(1)).progress).toMatchObject({ lastCompleted: fire.toISOString(), outcome: 'failed', attempt: 1 });
    expect((await record(2)).progress.inFlight).toMatchObject({ fireTime: fire.toISOString(), member: MEMBER, interrupted: true });
    // A re-run (of item 2's fire, handed back) is carried by the record with its failovers, until its release.
    const rerun = await ledger.begin([{ job, item: 2, fireTime: fire, attempt: 2, rerun: true, failovers: { count: 1, workers: ['w-gone'] } }]);
    expect(rerun[0]).toMatchObject({ status: 'started' });
    expect((await record(2)).progress.inFlight).toMatchObject({ fireTime: fire.toISOString(), attempt: 2, member: MEMBER, failovers: 1, down: ['w-gone'] });
    expect(await ledger.release({ job, item: 2, fireTime: fire, attempt: 2, outcome: 'success', durationMs: 4, keepInFlight: false })).toBe(true);
    expect((await record(2)).progress).toMatchObject({ inFlight: null, outcome: 'success', lastCompleted: fire.toISOString() });
    // Item 3's run is still ours: a begin of a later fire is no overwrite of it, even once the
    // record was written by someone else and read again (it does not say the run: our ledger does).
    const stored = await zk.getData(paths.item(job, 3));
    await zk.setData(paths.item(job, 3), stored.data, stored.stat.version);
    await ledger.load(job, 3, true);
    const later = await ledger.begin([{ job, item: 3, fireTime: new Date(fire.getTime() + 1000), attempt: 1 }]);
    expect(later[0]).toMatchObject({ status: 'takeover' });
  }, 60_000);

  // Step 4c, second part: the claims in the member's ledger are the items' frontier; the record
  // is written by the first begin after it was read, and on exceptions.
  it('the first begin after a read writes the record; the steady begins write only the ledger, whose claims are the frontier', async () => {
    zk = await connect();
    const paths = new ZkPaths('ledger-steady');
    const { ledger } = await seedLedger(zk, paths, 1, 2);
    const job = 'job-0000';
    // Instants after the items were made (a claim from before an item's birth is an earlier item's).
    const base = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
    const fire = (s: number) => new Date(base + s * 1000);
    const record = async (item: number) => {
      const { data, stat } = await zk!.getData(paths.item(job, item));
      return { progress: decodeProgress(data), version: stat.version };
    };
    const round = async (s: number, items = [0, 1]) => {
      const begun = await ledger.begin(items.map((item) => ({ job, item, fireTime: fire(s), attempt: 1, ...(s > 1 && { after: fire(s - 1) }) })));
      expect(begun.map((r) => r.status), `fire ${s}`).toEqual(items.map(() => 'started'));
      await Promise.all(items.map((item) => ledger.release({ job, item, fireTime: fire(s), attempt: 1, outcome: 'success', durationMs: 1, keepInFlight: false })));
      return begun;
    };
    await round(1);
    const first = await Promise.all([0, 1].map(record));
    expect(first.map((r) => r.progress.lastScheduled)).toEqual([fire(1).toISOString(), fire(1).toISOString()]);
    const later = await round(2);
    await round(3);
    // The records are as the first begin left them; our ledger claims the instant.
    expect(await Promise.all([0, 1].map(record))).toEqual(first);
    const entry = await ledgerEntry(zk, paths, MEMBER, job);
    expect(entry).toMatchObject({ t: fire(3).getTime(), b: new Set([0, 1]) });
    // The token of a run begun by the ledger alone is its multi's zxid, and grows.
    const token = (r: (typeof later)[number]) => BigInt((r as { token: string }).token);
    expect(token(later[0]!)).toBeGreaterThan(0n);
    expect(token(later[0]!)).toBe(token(later[1]!));
    // An item not begun at the next instant keeps its claim (an older one), in our ledger.
    await round(4, [0]);
    expect(await ledgerEntry(zk, paths, MEMBER, job)).toMatchObject({ t: fire(4).getTime(), b: new Set([0]), o: new Map([[1, fire(3).getTime()]]) });
    // The same fire again is a duplicate: the frontier is the claim, not the record.
    expect((await ledger.begin([{ job, item: 1, fireTime: fire(3), attempt: 1 }]))[0]).toEqual({ status: 'duplicate' });
    // Read again after someone else wrote the record: the first begin writes it once more.
    const stored = await zk.getData(paths.item(job, 1));
    await zk.setData(paths.item(job, 1), stored.data, stored.stat.version);
    await ledger.load(job, 1, true);
    // (Item 1's next fire is the instant it was not begun at: its claim reaches back to its frontier, 3.)
    await round(4, [1]);
    expect((await record(1)).progress.lastScheduled).toBe(fire(4).toISOString());
  }, 60_000);
});

// Run protocol v2, step 3b: a takeover tells a gone member's ledger entry superseded by the
// record's last write (its zxid and writer), as read with the record.
describe('RunLedger.loadStamped', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => {
    await ctx?.close();
  });

  it("gives the record with its last write's zxid and writer, ours after our own write, none for an item that does not exist", async () => {
    ctx = new ZkTestContext('ledger-stamped');
    const zk = await ctx.shared();
    const { ledger } = await seedLedger(zk, ctx.paths, 1, 1);
    const job = 'job-0000';
    await zk.setData(ctx.paths.item(job, 0), encodeProgress({ lastScheduled: new Date(FIRE_DAY_MS + 1000).toISOString() }, 'm-other-0000000007'));
    const read = await ledger.loadStamped(job, 0);
    expect(read.record.lastScheduled).toBe(new Date(FIRE_DAY_MS + 1000).toISOString());
    expect(read.stamp).toEqual({ mzxid: (await zk.exists(ctx.paths.item(job, 0)))!.mzxid, by: 7 });
    expect((await ledger.begin([{ job, item: 0, fireTime: new Date(FIRE_DAY_MS + 2 * 1000), attempt: 1 }]))[0]).toMatchObject({ status: 'started' });
    const after = await ledger.loadStamped(job, 0);
    expect(after.stamp).toEqual({ mzxid: (await zk.exists(ctx.paths.item(job, 0)))!.mzxid, by: 1 }); // MEMBER's sequence
    expect((await ledger.loadStamped(job, 5)).stamp).toBeUndefined();
  });
});

describe('RunLedger at 2,000 items per instant', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });
  /** A server and a client that counts its multis (into the array returned). */
  const connect = async (): Promise<{ zk: ZkClient; multis: number[] }> => {
    server = new ZooKeeperServer();
    await server.start();
    const multis: number[] = [];
    zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 6000, logger: silentLogger(), onRequest: (op) => void (op === 'multi' && multis.push(1)) });
    await zk.start();
    return { zk, multis };
  };

  it('starts and ends 2,000 runs in one transaction each (successes: their histories are written every few seconds)', async () => {
    const { zk, multis } = await connect();
    const { ledger, items } = await seedLedger(zk, new ZkPaths('ledger-2k'), 250, 8);
    for (let round = 0; round < 11; round++) {
      expect(await fireAll(zk, ledger, items, multis, new Date(FIRE_DAY_MS + round * 1000)), `round ${round}`).toEqual({ begin: round === 0 ? 2 : 1, release: 1 }); // round 0: one more makes our ledger's parts
    }
  }, 120_000);

  it('a clump of histories due at once never splits a release: a fifth of its items write theirs, the most overdue first, and every one in turn', async () => {
    // Histories fall due together after a pause (the clock jumps an interval between rounds here;
    // on a live fleet: items whose histories a sweep or a takeover wrote in one multi). Written
    // all with one release, 2,000 histories pushed it past maxRequestBytes: two multis, the second
    // one late (lateness bench at 1,000 × 8, 2026-12-03: every such split was that second's p99).
    const { zk, multis } = await connect();
    let now = FIRE_DAY_MS;
    const time: Clock = { ...systemClock, now: () => now };
    const paths = new ZkPaths('ledger-clump');
    const { ledger, items } = await seedLedger(zk, paths, 250, 8, silentLogger(), time);
    for (let round = 0; round < 6; round++) {
      now += HISTORY_WRITE_INTERVAL_MS;
      expect(await fireAll(zk, ledger, items, multis, new Date(now)), `round ${round}`).toEqual({ begin: round === 0 ? 2 : 1, release: 1 }); // round 0: one more makes our ledger's parts
    }
    // Six releases of at most 400 histories each: every item's written at least once.
    const found = await Promise.all(items.map(({ job, item }) => zk.exists(paths.history(job, item))));
    expect(found.filter((s) => s === null).length).toBe(0);
  }, 120_000);
});

const MEMBER = 'm-0123456789abcdef-0000000001';

/** Creates `jobs` × `perJob` item nodes and our member node; a ledger for that member. */
async function seedLedger(zk: ZkClient, paths: ZkPaths, jobs: number, perJob: number, logger = silentLogger(), time: Clock = systemClock): Promise<{ ledger: RunLedger; items: Array<{ job: string; item: number }> }> {
  const names = Array.from({ length: jobs }, (_, j) => `job-${String(j).padStart(4, '0')}`);
  await zk.mkdirp(paths.workers);
  for (const job of names) {
    await zk.mkdirp(paths.items(job));
    const tx = zk.transaction();
    for (let i = 0; i < perJob; i++) tx.create(paths.item(job, i));
    await zk.commit(tx);
  }
  await zk.create(paths.member(MEMBER), undefined, 'ephemeral');
  const ledger = new RunLedger(zk, paths, { name: MEMBER, workerId: 'worker-1' }, logger, undefined, time);
  return { ledger, items: names.flatMap((job) => Array.from({ length: perJob }, (_, item) => ({ job, item }))) };
}

/** Begins and ends one fire of every item; the number of multis each took. */
async function fireAll(zk: ZkClient, ledger: RunLedger, items: Array<{ job: string; item: number }>, multis: number[], fireTime: Date): Promise<{ begin: number; release: number }> {
  multis.length = 0;
  const results = await ledger.begin(items.map(({ job, item }) => ({ job, item, fireTime, attempt: 1 })));
  expect(results.filter((r) => r.status !== 'started')).toEqual([]);
  const begin = multis.length;
  multis.length = 0;
  const written = await Promise.all(items.map(({ job, item }) => ledger.release({ job, item, fireTime, attempt: 1, outcome: 'success', durationMs: 12, keepInFlight: false })));
  expect(written.every(Boolean)).toBe(true);
  return { begin, release: multis.length };
}

describe('RunLedger request sizes', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  it('fills each multi up to maxRequestBytes and carries the rest to the next: every run begun and ended exactly once', async () => {
    server = new ZooKeeperServer();
    await server.start();
    const multis: number[] = [];
    zk = new ZkClient({ connect: server.connectString, maxRequestBytes: 524_288, logger: silentLogger(), onRequest: (op) => void (op === 'multi' && multis.push(1)) });
    await zk.start();
    const paths = new ZkPaths('ledger-small');
    const warnings: string[] = [];
    const { ledger, items } = await seedLedger(zk, paths, 600, 10, createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(line) } }));
    for (let round = 0; round < 3; round++) {
      const fireTime = new Date(FIRE_DAY_MS + round * 1000);
      const { begin, release } = await fireAll(zk, ledger, items, multis, fireTime);
      // The first begins write 6,000 records (about 110 bytes each: the items' frontier) at 512 KiB
      // a multi; the next ones only our ledger, whose claims are the frontier (run protocol v2,
      // step 4c), as their successes do (and a share of histories): one multi each.
      if (round === 0) expect(begin).toBeGreaterThanOrEqual(2);
      else expect(begin, `round ${round}`).toBe(1);
      expect(release, `round ${round}`).toBe(1);
      const stored = await Promise.all(
        items.map(async ({ job, item }) => ({ key: `${job}#${item}`, flight: await flightIn(zk!, paths, MEMBER, job, item), progress: decodeProgress((await zk!.getData(paths.item(job, item))).data), known: await ledger.load(job, item) })),
      );
      for (const { key, flight, progress, known } of stored) {
        expect(flight, key).toBeUndefined();
        expect(progress, key).toMatchObject({ lastScheduled: new Date(FIRE_DAY_MS).toISOString() });
        expect(progress.inFlight ?? null, key).toBeNull();
        expect(known.lastScheduled, key).toBe(fireTime.toISOString());
      }
    }
    // The operator is told, once a minute at most, what to raise.
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ what: 'begin', items: 6000, maxRequestBytes: 524_288, msg: expect.stringMatching(/raise zookeeper.maxRequestBytes together with jute.maxbuffer/) });
    // The same fire again is a duplicate for every item, whichever multi it was in.
    const again = await ledger.begin(items.map(({ job, item }) => ({ job, item, fireTime: new Date(FIRE_DAY_MS + 2 * 1000), attempt: 1 })));
    expect(again.every((r) => r.status === 'duplicate')).toBe(true);
  }, 60_000);

  it('a connection drop between the multis of one batch (begin or release) loses no run and runs none twice', async () => {
    server = new ZooKeeperServer();
    await server.start();
    const multis: number[] = [];
    /** Called once, when the next multi has completed (then the batch's next multi is on its way). */
    let afterNextMulti: (() => void) | undefined;
    const onRequest = (op: string): void => {
      if (op !== 'multi') return;
      multis.push(1);
      const hook = afterNextMulti;
      afterNextMulti = undefined;
      hook?.();
    };
    zk = new ZkClient({ connect: server.connectString, maxRequestBytes: 524_288, logger: silentLogger(), onRequest });
    await zk.start();
    const paths = new ZkPaths('ledger-drop');
    const { ledger, items } = await seedLedger(zk, paths, 300, 10);
    for (let round = 0; round < 4; round++) {
      const fireTime = new Date(FIRE_DAY_MS + round * 1000);
      let dropped: Promise<void> | undefined;
      const arm = () => (afterNextMulti = () => void (dropped = dropConnection(zk!)));
      if (round % 2 === 0) arm(); // during the begin: after its first multi
      const begun = await ledger.begin(items.map(({ job, item }) => ({ job, item, fireTime, attempt: 1 })));
      expect(begun.filter((r) => r.status !== 'started'), `round ${round}`).toEqual([]);
      await dropped;
      dropped = undefined;
      if (round % 2 === 1) arm(); // during the release: after its first multi
      const written = await Promise.all(items.map(({ job, item }) => ledger.release({ job, item, fireTime, attempt: 1, outcome: 'success', durationMs: 3, keepInFlight: false })));
      expect(written.every(Boolean), `round ${round}`).toBe(true);
      await dropped;
      expect(afterNextMulti, `round ${round}: the drop happened`).toBeUndefined();
      const stored = await Promise.all(
        items.map(async ({ job, item }) => ({ key: `${job}#${item}`, flight: await flightIn(zk!, paths, MEMBER, job, item), progress: decodeProgress((await zk!.getData(paths.item(job, item))).data) })),
      );
      for (const { key, flight, progress } of stored) {
        expect(flight, `${key}, round ${round}`).toBeUndefined();
        expect(progress.inFlight ?? null, `${key}, round ${round}`).toBeNull();
        expect((await ledger.load(key.split('#')[0]!, Number(key.split('#')[1]))).lastScheduled, `${key}, round ${round}`).toBe(fireTime.toISOString());
      }
    }
  }, 90_000);

  // A release batch split over several multis, whose runs began at different fences (our own member
  // node update between two begins), after a forced operation moved the fence again: the refused
  // fence check must settle every pending release, not only those of the refused multi (before, the
  // ones left for the next multi kept failing it until the rounds ran out, and their runs stayed held).
  it('releases split over several multis, begun at different fences, all go through after the fence moved', async () => {
    server = new ZooKeeperServer();
    await server.start();
    const multis: number[] = [];
    zk = new ZkClient({ connect: server.connectString, maxRequestBytes: 524_288, logger: silentLogger(), onRequest: (op) => void (op === 'multi' && multis.push(1)) });
    await zk.start();
    const paths = new ZkPaths('ledger-fences');
    const { items } = await seedLedger(zk, paths, 300, 10);
    const member = paths.member(MEMBER);
    let known = 0;
    const refreshFence = async () => (known = (await zk!.exists(member))!.version);
    const ledger = new RunLedger(zk, paths, { name: MEMBER, workerId: 'worker-1', fenceVersion: () => known, refreshFence }, silentLogger());
    const fireTime = new Date(FIRE_DAY_MS + 1 * 1000);
    const half = items.length / 2;
    const begin = (some: typeof items) => ledger.begin(some.map(({ job, item }) => ({ job, item, fireTime, attempt: 1 })));
    expect((await begin(items.slice(0, half))).every((r) => r.status === 'started')).toBe(true);
    await zk.setData(member, 'updated'); // our own update (a drain, say): the later runs begin at fence 1
    await refreshFence();
    expect((await begin(items.slice(half))).every((r) => r.status === 'started')).toBe(true);
    await zk.setData(member, 'fenced'); // a forced operation elsewhere fences us again (version 2)
    multis.length = 0;
    // Failures: each writes its item's record and history (a success would write our ledger alone).
    const written = await Promise.all(items.map(({ job, item }) => ledger.release({ job, item, fireTime, attempt: 1, outcome: 'failed', error: 'boom', durationMs: 3, keepInFlight: false })));
    expect(multis.length, 'the releases needed more than one multi').toBeGreaterThanOrEqual(3);
    expect(written.filter((w) => !w).length).toBe(0);
    const left = await Promise.all(items.map(({ job, item }) => flightIn(zk!, paths, MEMBER, job, item)));
    expect(left.filter((f) => f !== undefined).length).toBe(0);
  }, 90_000);

  it('with a server whose jute.maxbuffer is raised and a matching maxRequestBytes, 6,000 items begin and end in one multi each', async () => {
    server = new ZooKeeperServer({ jvmOptions: [...DEFAULT_JVM_OPTIONS, '-Djute.maxbuffer=4194304'] });
    await server.start();
    const multis: number[] = [];
    zk = new ZkClient({ connect: server.connectString, maxRequestBytes: 4_000_000, logger: silentLogger(), onRequest: (op) => void (op === 'multi' && multis.push(1)) });
    await zk.start();
    const { ledger, items } = await seedLedger(zk, new ZkPaths('ledger-6k'), 250, 24);
    for (let round = 0; round < 3; round++) {
      expect(await fireAll(zk, ledger, items, multis, new Date(FIRE_DAY_MS + round * 1000)), `round ${round}`).toEqual({ begin: round === 0 ? 2 : 1, release: 1 }); // round 0: one more makes our ledger's parts
    }
  }, 120_000);
});
