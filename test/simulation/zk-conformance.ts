/*
 * One conformance suite for every `ZkSession`: the same cases run against a real ZooKeeper
 * (zk-conformance-real.test.ts, `ZkClient`) and against the simulation (zk-conformance-sim.test.ts,
 * `SimZkClient`). Where the two disagree, the real server is right and the simulation is fixed.
 *
 * The cases never sleep: ZooKeeper delivers a session's watch events before the replies that
 * follow them, so one more request on the watching session (`sync`) shows every event a change
 * caused. The real server is shared with other tests: zxids are only compared for order (others
 * write concurrently), never for exact distances.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ZkSession } from '../../src/zk/zk-session.js';
import type { ZkWatchEvent } from '../../src/zk/zk-watch-event.js';
import type { SessionState } from '../../src/zk/session-state.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import {
  BadVersionError,
  ConnectionLossError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  RequestTooLargeError,
  ZkClosedError,
  ZkError,
} from '../../src/zk/zk-errors.js';

/** What a runner provides for one case. */
export interface ConformanceTarget {
  /** A fresh, empty persistent node under which the case works. */
  readonly root: string;
  /** A new, started session. */
  open(options?: { sessionTimeoutMs?: number }): Promise<ZkSession>;
  /** Makes the server expire `session` (its client learns it on its next contact). */
  expire(session: ZkSession): Promise<void>;
  /** Resets `session`'s connection at once (what was in flight is lost); its client reconnects. */
  disconnect(session: ZkSession): void;
  /** Closes every session and removes the case's nodes. */
  close(): Promise<void>;
}

/** Records the watch events a watcher receives. */
function recorder(): { events: ZkWatchEvent[]; watcher: (e: ZkWatchEvent) => void; next: () => Promise<ZkWatchEvent> } {
  const events: ZkWatchEvent[] = [];
  let waiting: ((e: ZkWatchEvent) => void) | undefined;
  return {
    events,
    watcher: (e) => {
      events.push(e);
      waiting?.(e);
      waiting = undefined;
    },
    next: () => new Promise((resolve) => (waiting = resolve)),
  };
}

/** One round trip on `zk`: every event caused before it has been delivered when it resolves. */
async function sync(zk: ZkSession): Promise<void> {
  await zk.exists('/');
}

function untilState(zk: ZkSession, wanted: SessionState): Promise<void> {
  if (zk.state === wanted) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (s: SessionState) => {
      if (s !== wanted) return;
      zk.off('state', on);
      resolve();
    };
    zk.on('state', on);
  });
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

/** Registers the suite's cases; `makeTarget` is called once per case. */
export function zkConformanceSuite(makeTarget: () => Promise<ConformanceTarget>): void {
  let t: ConformanceTarget;
  beforeEach(async () => {
    t = await makeTarget();
  });
  afterEach(async () => {
    await t?.close();
  });

  it('create, getData, setData and remove, with data versions and the stat fields protocol code reads', async () => {
    const zk = await t.open();
    const p = `${t.root}/a`;
    expect(await zk.create(p, 'one')).toBe(p);
    const first = await zk.getData(p);
    expect(first.data.toString()).toBe('one');
    expect(first.stat).toMatchObject({ version: 0, cversion: 0, ephemeralOwner: null, dataLength: 3, numChildren: 0 });
    expect(first.stat.mzxid).toBe(first.stat.czxid);
    expect(first.stat.mtime).toBe(first.stat.ctime);
    const second = await zk.setData(p, 'two', 0);
    expect(second.version).toBe(1);
    expect(second.czxid).toBe(first.stat.czxid);
    expect(second.mzxid).toBeGreaterThan(first.stat.mzxid);
    expect(second.mtime).toBeGreaterThanOrEqual(first.stat.ctime);
    expect(second.dataLength).toBe(3);
    const third = await zk.setData(p, Buffer.from('three'));
    expect(third.version).toBe(2);
    expect(third.mzxid).toBeGreaterThan(second.mzxid);
    expect((await zk.getData(p)).data.toString()).toBe('three');
    const empty = await zk.create(`${t.root}/empty`);
    expect((await zk.getData(empty)).data.length).toBe(0);
    const parent = await zk.exists(t.root);
    expect(parent).toMatchObject({ numChildren: 2, cversion: 2 });
    await zk.remove(p, 2);
    expect(await zk.exists(p)).toBeNull();
    expect(await zk.getDataIfExists(p)).toBeNull();
    expect(await zk.exists(t.root)).toMatchObject({ numChildren: 1, cversion: 3 });
  });

  it('every failure has its typed error, code and path, and changes nothing', async () => {
    const zk = await t.open();
    const p = `${t.root}/a`;
    await zk.create(p, 'x');
    await zk.create(`${p}/child`);
    const noNode = await rejection(zk.getData(`${t.root}/missing`));
    expect(noNode).toBeInstanceOf(NoNodeError);
    expect(noNode).toMatchObject({ code: 'ZK_NO_NODE', zkCode: -101, path: `${t.root}/missing` });
    expect(await rejection(zk.create(p))).toMatchObject({ code: 'ZK_NODE_EXISTS', zkCode: -110, path: p });
    expect(await rejection(zk.create(p))).toBeInstanceOf(NodeExistsError);
    expect(await rejection(zk.create(`${t.root}/missing/x`))).toBeInstanceOf(NoNodeError);
    expect(await rejection(zk.setData(p, 'y', 7))).toBeInstanceOf(BadVersionError);
    expect(await rejection(zk.setData(`${t.root}/missing`, 'y'))).toBeInstanceOf(NoNodeError);
    expect(await rejection(zk.remove(`${t.root}/missing`))).toBeInstanceOf(NoNodeError);
    // The version is checked before the children.
    expect(await rejection(zk.remove(p, 5))).toBeInstanceOf(BadVersionError);
    const notEmpty = await rejection(zk.remove(p));
    expect(notEmpty).toBeInstanceOf(NotEmptyError);
    expect(notEmpty).toMatchObject({ code: 'ZK_NOT_EMPTY', zkCode: -111 });
    expect(await rejection(zk.getChildren(`${t.root}/missing`))).toBeInstanceOf(NoNodeError);
    const badPath = await rejection(zk.create(`${t.root}/bad/`));
    expect(badPath).toBeInstanceOf(ZkError);
    expect(badPath).toMatchObject({ code: 'ZK_ERROR', message: `zk: create ${t.root}/bad/ failed: Node path must not end with / character.` });
    // In a multi, the client library's own check throws before anything is sent.
    const badMulti = await rejection(zk.commit(zk.transaction().create(`${t.root}/ok`).check(`${t.root}//x`)));
    expect(badMulti).toMatchObject({ message: 'Node path must not contain empty node name.' });
    expect(await zk.exists(`${t.root}/ok`)).toBeNull();
    const stat = await zk.getData(p);
    expect(stat.data.toString()).toBe('x');
    expect(stat.stat.version).toBe(0);
    expect(await zk.getChildren(p)).toEqual(['child']);
  });

  it('createIfAbsent and mkdirp', async () => {
    const zk = await t.open();
    expect(await zk.createIfAbsent(`${t.root}/c`, 'v')).toBe(true);
    expect(await zk.createIfAbsent(`${t.root}/c`, 'w')).toBe(false);
    expect((await zk.getData(`${t.root}/c`)).data.toString()).toBe('v');
    await zk.mkdirp(`${t.root}/d/e/f`);
    await zk.mkdirp(`${t.root}/d/e/f`);
    expect(await zk.getChildren(`${t.root}/d/e`)).toEqual(['f']);
    expect(await zk.exists(`${t.root}/d/e/f`)).toMatchObject({ dataLength: 0, ephemeralOwner: null });
  });

  it('each write takes a zxid, failed ones too; the ops of a multi share one', async () => {
    const zk = await t.open();
    await zk.create(`${t.root}/a`);
    const a = (await zk.exists(`${t.root}/a`))!.czxid;
    await rejection(zk.create(`${t.root}/a`));
    await zk.create(`${t.root}/b`);
    const b = (await zk.exists(`${t.root}/b`))!.czxid;
    expect(b - a).toBeGreaterThanOrEqual(2n); // the failed create took one in between
    const results = await zk.commit(zk.transaction().create(`${t.root}/c`).setData(`${t.root}/a`, Buffer.from('x'), 0).create(`${t.root}/d`));
    const c = (await zk.exists(`${t.root}/c`))!;
    const d = (await zk.exists(`${t.root}/d`))!;
    expect(c.czxid).toBe(d.czxid);
    expect(results[1]!.stat!.mzxid).toBe(c.czxid);
    expect(c.czxid).toBeGreaterThan(b);
    expect(await zk.exists(t.root)).toMatchObject({ numChildren: 4 });
  });

  it("sequential nodes take a 10-digit suffix counting the parent's creates, shared by both sequential modes", async () => {
    const zk = await t.open();
    const s0 = await zk.create(`${t.root}/s-`, 'x', 'persistentSequential');
    expect(s0).toBe(`${t.root}/s-0000000000`);
    await zk.create(`${t.root}/plain`);
    const s2 = await zk.create(`${t.root}/m-`, undefined, 'ephemeralSequential');
    expect(s2).toBe(`${t.root}/m-0000000002`);
    await zk.remove(s0);
    // The cversion counts the delete; the suffix only counts creates (ZooKeeper 3.8 does so).
    expect(await zk.exists(t.root)).toMatchObject({ cversion: 4, numChildren: 2 });
    const s3 = await zk.create(`${t.root}/s-`, undefined, 'persistentSequential');
    expect(s3).toBe(`${t.root}/s-0000000003`);
    await zk.commit(zk.transaction().create(`${t.root}/tmp`).remove(`${t.root}/tmp`));
    expect(await zk.create(`${t.root}/s-`, undefined, 'persistentSequential')).toBe(`${t.root}/s-0000000005`);
    expect((await zk.getChildren(t.root)).sort()).toEqual(['m-0000000002', 'plain', 's-0000000003', 's-0000000005']);
    expect(await zk.exists(t.root)).toMatchObject({ cversion: 8, numChildren: 4 });
  });

  it('getChildren lists every child, in no order the code may rely on', async () => {
    const zk = await t.open();
    const names = ['b', 'a', 'm-0000000007', 'z', 'c'];
    for (const n of names) await zk.create(`${t.root}/${n}`);
    expect((await zk.getChildren(t.root)).sort()).toEqual([...names].sort());
    expect(await zk.getChildren(`${t.root}/a`)).toEqual([]);
  });

  it('ephemeral nodes belong to their session, cannot have children, and go when it closes', async () => {
    const observer = await t.open();
    const zk = await t.open();
    const e = `${t.root}/e`;
    await zk.create(e, 'x', 'ephemeral');
    const stat = await observer.exists(e);
    expect(stat?.ephemeralOwner).toBe(zk.sessionId);
    expect(zk.sessionId).toMatch(/^[0-9a-f]{16}$/);
    const noChildren = await rejection(zk.create(`${e}/child`));
    expect(noChildren).toMatchObject({ code: 'ZK_NO_CHILDREN_FOR_EPHEMERALS', zkCode: -108 });
    const w = recorder();
    expect(await observer.exists(e, w.watcher)).not.toBeNull();
    await zk.close();
    await zk.close();
    expect(zk.state).toBe('closed');
    expect(zk.signal.aborted).toBe(true);
    expect(zk.signal.reason).toMatchObject({ code: 'ZK_CLOSED' });
    await sync(observer);
    expect(w.events).toEqual([{ type: 'deleted', path: e }]);
    expect(await observer.exists(e)).toBeNull();
    const after = await rejection(zk.getData(t.root));
    expect(after).toBeInstanceOf(ZkClosedError);
    expect(after).toMatchObject({ code: 'ZK_CLOSED', message: `zk: getData ${t.root}: client is closed` });
  });

  it('an expired session loses its ephemerals, and its client learns it: expired, aborted, closed for requests', async () => {
    const observer = await t.open();
    const zk = await t.open();
    const e = `${t.root}/e`;
    await zk.create(e, 'x', 'ephemeral');
    const w = recorder();
    await observer.exists(e, w.watcher);
    const expired = untilState(zk, 'expired');
    await t.expire(zk);
    await expired;
    expect(zk.signal.aborted).toBe(true);
    expect(zk.signal.reason).toMatchObject({ code: 'ZK_SESSION_EXPIRED' });
    await sync(observer);
    expect(w.events).toEqual([{ type: 'deleted', path: e }]);
    expect(await observer.exists(e)).toBeNull();
    expect(await rejection(zk.exists(e))).toBeInstanceOf(ZkClosedError);
    await zk.close();
    expect(zk.state).toBe('expired');
  });

  it('a data watch fires once, for a change or a delete, then is gone', async () => {
    const zk = await t.open();
    const writer = await t.open();
    const p = `${t.root}/w`;
    await zk.create(p, 'a');
    const w = recorder();
    await zk.getData(p, w.watcher);
    await writer.setData(p, 'b');
    await writer.setData(p, 'c');
    await sync(zk);
    expect(w.events).toEqual([{ type: 'dataChanged', path: p }]);
    await zk.getData(p, w.watcher);
    await writer.remove(p);
    await sync(zk);
    expect(w.events).toEqual([
      { type: 'dataChanged', path: p },
      { type: 'deleted', path: p },
    ]);
  });

  it('an exists watch on a missing node fires on its creation; on an existing node, on its change', async () => {
    const zk = await t.open();
    const writer = await t.open();
    const p = `${t.root}/x`;
    const w = recorder();
    expect(await zk.exists(p, w.watcher)).toBeNull();
    await writer.create(p, 'a');
    await sync(zk);
    expect(w.events).toEqual([{ type: 'created', path: p }]);
    expect(await zk.exists(p, w.watcher)).not.toBeNull();
    await writer.setData(p, 'b');
    await sync(zk);
    expect(w.events.at(-1)).toEqual({ type: 'dataChanged', path: p });
    expect(await zk.exists(p, w.watcher)).not.toBeNull();
    await writer.remove(p);
    await sync(zk);
    expect(w.events.at(-1)).toEqual({ type: 'deleted', path: p });
    expect(w.events).toHaveLength(3);
  });

  it('a child watch fires once on a child created or deleted (not on a child’s data), and on the node’s own delete', async () => {
    const zk = await t.open();
    const writer = await t.open();
    const p = `${t.root}/parent`;
    await zk.create(p);
    const w = recorder();
    expect(await zk.getChildren(p, w.watcher)).toEqual([]);
    await writer.create(`${p}/c1`);
    await writer.create(`${p}/c2`);
    await sync(zk);
    expect(w.events).toEqual([{ type: 'childrenChanged', path: p }]);
    await zk.getChildren(p, w.watcher);
    await writer.setData(`${p}/c1`, 'data');
    await sync(zk);
    expect(w.events).toHaveLength(1);
    await writer.remove(`${p}/c1`);
    await sync(zk);
    expect(w.events.at(-1)).toEqual({ type: 'childrenChanged', path: p });
    await writer.remove(`${p}/c2`);
    const both = recorder();
    await zk.getChildren(p, both.watcher);
    await zk.getData(p, both.watcher);
    await writer.remove(p);
    await sync(zk);
    // The server sends one event; the client fires both the child and the data watcher with it.
    expect(both.events).toEqual([
      { type: 'deleted', path: p },
      { type: 'deleted', path: p },
    ]);
  });

  it('the events of one change, and of the ops of one multi, arrive in the order the server applied them', async () => {
    const zk = await t.open();
    const writer = await t.open();
    const r = t.root;
    await zk.create(`${r}/p`);
    const w = recorder();
    await zk.exists(`${r}/p/c`, w.watcher);
    await zk.getChildren(`${r}/p`, w.watcher);
    await writer.create(`${r}/p/c`);
    await sync(zk);
    expect(w.events).toEqual([
      { type: 'created', path: `${r}/p/c` },
      { type: 'childrenChanged', path: `${r}/p` },
    ]);
    w.events.length = 0;
    await zk.create(`${r}/q`);
    for (const p of [`${r}/q`, `${r}/p/c`]) await zk.getData(p, w.watcher);
    await zk.getChildren(`${r}/p`, w.watcher);
    await writer.commit(writer.transaction().setData(`${r}/q`, Buffer.from('x')).remove(`${r}/p/c`));
    await sync(zk);
    expect(w.events).toEqual([
      { type: 'dataChanged', path: `${r}/q` },
      { type: 'deleted', path: `${r}/p/c` },
      { type: 'childrenChanged', path: `${r}/p` },
    ]);
  });

  it('a session sees the watch event of its own change before the reply to that change', async () => {
    const zk = await t.open();
    const p = `${t.root}/own`;
    await zk.create(p, 'a');
    const order: string[] = [];
    await zk.getData(p, (e) => order.push(`event ${e.type}`));
    await zk.setData(p, 'b').then(() => order.push('reply'));
    expect(order).toEqual(['event dataChanged', 'reply']);
  });

  it('a multi applies all its ops or none, and names the op the server rejected', async () => {
    const zk = await t.open();
    const r = t.root;
    const ok = await zk.commit(zk.transaction().create(`${r}/x`, Buffer.from('1')).setData(`${r}/x`, Buffer.from('2'), 0).check(`${r}/x`, 1));
    expect(ok.map((o) => o.type)).toEqual(['create', 'setData', 'check']);
    expect(ok[0]!.path).toBe(`${r}/x`);
    expect(ok[1]!.stat).toMatchObject({ version: 1, dataLength: 1 });
    expect(ok[2]!.stat).toBeUndefined();
    const w = recorder();
    await zk.getData(`${r}/x`, w.watcher);
    await zk.getChildren(r, w.watcher);
    const cases: Array<{ tx: ReturnType<ZkSession['transaction']>; index: number; reason: new (...a: never[]) => ZkError }> = [
      { tx: zk.transaction().create(`${r}/y`).create(`${r}/x`).setData(`${r}/x`, Buffer.from('3')), index: 1, reason: NodeExistsError },
      { tx: zk.transaction().check(`${r}/missing`).create(`${r}/y`), index: 0, reason: NoNodeError },
      { tx: zk.transaction().create(`${r}/y`).remove(`${r}/y`).setData(`${r}/x`, Buffer.from('3'), 0), index: 2, reason: BadVersionError },
      { tx: zk.transaction().create(`${r}/y`).check(`${r}/x`, 0), index: 1, reason: BadVersionError },
      { tx: zk.transaction().setData(`${r}/x`, Buffer.from('3')).remove(`${r}`, -1), index: 1, reason: NotEmptyError },
    ];
    for (const c of cases) {
      const err = await rejection(zk.commit(c.tx));
      expect(err).toBeInstanceOf(ZkTransactionError);
      expect((err as ZkTransactionError).failedIndex).toBe(c.index);
      expect((err as ZkTransactionError).failedOp).toBe(c.tx.ops[c.index]);
      expect((err as ZkTransactionError).reason).toBeInstanceOf(c.reason);
    }
    const err = (await rejection(zk.commit(cases[0]!.tx))) as ZkTransactionError;
    expect(err.message).toBe(`zk: multi ${r}/y failed: NODE_EXISTS[-110] (operation 1: create ${r}/x)`);
    // Nothing of the failed multis was applied, and no watch fired.
    await sync(zk);
    expect(w.events).toEqual([]);
    expect(await zk.exists(`${r}/y`)).toBeNull();
    const x = await zk.getData(`${r}/x`);
    expect(x.data.toString()).toBe('2');
    expect(x.stat.version).toBe(1);
  });

  it('an expected version of 0 is checked inside a multi', async () => {
    const zk = await t.open();
    const p = `${t.root}/n`;
    await zk.create(p, 'a');
    await zk.setData(p, 'b');
    for (const tx of [zk.transaction().setData(p, Buffer.from('c'), 0), zk.transaction().check(p, 0), zk.transaction().remove(p, 0)]) {
      expect(((await rejection(zk.commit(tx))) as ZkTransactionError).reason).toBeInstanceOf(BadVersionError);
    }
    expect(await zk.commit(zk.transaction())).toEqual([]);
  });

  it('a multi over maxRequestBytes is refused before it is sent', async () => {
    const zk = await t.open();
    const tx = zk.transaction();
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < 6; i++) tx.create(`${t.root}/big-${i}`, big);
    const err = await rejection(zk.commit(tx));
    expect(err).toBeInstanceOf(RequestTooLargeError);
    expect(err).toMatchObject({ code: 'ZK_REQUEST_TOO_LARGE', path: `${t.root}/big-0` });
    expect(await zk.getChildren(t.root)).toEqual([]);
  });

  it('a dropped connection: requests in flight fail with ConnectionLoss, the same session comes back with its ephemerals and watches', async () => {
    const zk = await t.open();
    const writer = await t.open();
    const e = `${t.root}/e`;
    await zk.create(e, 'a', 'ephemeral');
    const w = recorder();
    await zk.getData(e, w.watcher);
    const states: SessionState[] = [];
    zk.on('state', (s) => states.push(s));
    const read = rejection(zk.getData(e));
    const multi = rejection(zk.commit(zk.transaction().check(e)));
    t.disconnect(zk);
    const readErr = await read;
    expect(readErr).toBeInstanceOf(ConnectionLossError);
    expect(readErr).toMatchObject({ code: 'ZK_CONNECTION_LOSS', zkCode: -4, path: e });
    const multiErr = (await multi) as ZkTransactionError;
    expect(multiErr).toBeInstanceOf(ZkTransactionError);
    expect(multiErr.failedIndex).toBe(-1);
    expect(multiErr.reason).toBeInstanceOf(ConnectionLossError);
    // A change made while the client reconnects fires its watch once, on this side or the other of the reconnect.
    await writer.setData(e, 'b');
    expect(await zk.waitLive(zk.sessionTimeoutMs)).toBe(true);
    await sync(zk);
    expect(w.events).toEqual([{ type: 'dataChanged', path: e }]);
    expect(states).toEqual(['suspended', 'reconnected']);
    const stat = await writer.exists(e);
    expect(stat?.ephemeralOwner).toBe(zk.sessionId);
    expect(zk.signal.aborted).toBe(false);
  });

  it('a request larger than jute.maxbuffer drops the connection: ConnectionLoss, nothing applied, the session goes on', async () => {
    const zk = await t.open();
    const p = `${t.root}/big`;
    await zk.create(p, 'small');
    const err = await rejection(zk.setData(p, Buffer.alloc(1_048_570)));
    expect(err).toBeInstanceOf(ConnectionLossError);
    expect(err).toMatchObject({ code: 'ZK_CONNECTION_LOSS', zkCode: -4 });
    expect(await zk.waitLive(zk.sessionTimeoutMs)).toBe(true);
    expect(zk.state).toBe('reconnected');
    const after = await zk.getData(p);
    expect(after.data.toString()).toBe('small');
    expect(after.stat.version).toBe(0);
  });
}
