import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/simulation/sim-clock.js';
import { SeededRandom } from '../../src/simulation/seeded-random.js';
import { SimConnection } from '../../src/simulation/sim-connection.js';
import { SimZooKeeper } from '../../src/simulation/sim-zookeeper.js';
import type { SimReply, SimRequest, SimServerMessage } from '../../src/simulation/sim-protocol.js';

/** A server and one raw connection to it, speaking the wire messages directly. */
function raw(options: { maxBufferBytes?: number; seed?: number } = {}) {
  const clock = new SimClock();
  const server = new SimZooKeeper({ timers: clock.timers('server'), random: new SeededRandom(options.seed ?? 1), tickMs: 500, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 8000, maxBufferBytes: options.maxBufferBytes });
  const received: SimServerMessage[] = [];
  let closed = false;
  let xid = 1;
  const conn = new SimConnection({
    id: 'raw#1',
    clientTimers: clock.timers('client'),
    serverTimers: clock.timers('server'),
    server,
    client: { onMessage: (_c, m) => received.push(m), onClosed: () => (closed = true) },
    latencyMs: () => 1,
    partitioned: () => false,
  });
  const connect = async (timeoutMs: number) => {
    conn.sendToServer({ kind: 'connect', sessionId: 0n, timeoutMs, lastZxid: 0n });
    await clock.advanceBy(10);
    return received.shift() as Extract<SimServerMessage, { kind: 'connected' }>;
  };
  const send = async (request: SimRequest, bytes = 100): Promise<SimReply | undefined> => {
    conn.sendToServer({ kind: 'request', xid: xid++, request, bytes });
    await clock.advanceBy(10);
    const reply = received.find((m) => m.kind === 'reply');
    received.length = 0;
    return reply?.kind === 'reply' ? reply.reply : undefined;
  };
  return { clock, server, conn, connect, send, received, isClosed: () => closed };
}

describe('SimZooKeeper', () => {
  it('a failed multi reports, per op, 0 before the rejected op, its error, and RuntimeInconsistency after it', async () => {
    const s = raw();
    await s.connect(4000);
    await s.send({ op: 'create', path: '/x', data: Buffer.alloc(0), mode: 'persistent' });
    const reply = await s.send({
      op: 'multi',
      ops: [
        { type: 'create', path: '/a', mode: 'persistent' },
        { type: 'check', path: '/x', version: 0 },
        { type: 'setData', path: '/x', data: Buffer.from('v'), version: 3 },
        { type: 'remove', path: '/x', version: -1 },
      ],
    });
    expect(reply?.err).toBe(-103);
    expect(reply?.results?.map((r) => [r.type, r.err])).toEqual([
      ['error', 0],
      ['error', 0],
      ['error', -103],
      ['error', -2],
    ]);
    expect(s.server.peek('/a')).toBeUndefined();
  });

  it('counts zxids as ZooKeeper does: one per session creation, per write (failed too), per multi, per close; none per read', async () => {
    const s = raw();
    await s.connect(4000);
    expect(s.server.lastZxid).toBe(1n);
    await s.send({ op: 'create', path: '/a', data: Buffer.from('x'), mode: 'ephemeral' });
    await s.send({ op: 'create', path: '/a', data: Buffer.from('x'), mode: 'persistent' });
    await s.send({ op: 'getData', path: '/a', watch: false });
    await s.send({ op: 'getChildren', path: '/', watch: true });
    expect(s.server.lastZxid).toBe(3n);
    await s.send({ op: 'multi', ops: [{ type: 'check', path: '/a', version: 0 }, { type: 'setData', path: '/a', data: Buffer.from('y'), version: 0 }] });
    expect(s.server.peek('/a')?.stat.mzxid).toBe(4n);
    const close = await s.send({ op: 'closeSession' });
    expect(close?.zxid).toBe(5n);
    // The close's transaction deleted the ephemeral, and its child watch fired before the reply... on a connection now closed.
    expect(s.server.peek('/a')).toBeUndefined();
    expect(s.server.peek('/')?.stat.pzxid).toBe(5n);
    await s.clock.advanceBy(10);
    expect(s.isClosed()).toBe(true);
  });

  it('grants a session timeout within its bounds and expires a silent session at the first tick after it', async () => {
    const s = raw();
    const granted = await s.connect(100_000);
    expect(granted.timeoutMs).toBe(8000);
    expect((await raw().connect(10)).timeoutMs).toBe(1000);
    const touchedAtMs = 1; // the handshake reached the server after 1 ms of latency
    await s.clock.runUntil(() => s.server.liveSessions().length === 0, 20_000);
    // ZooKeeper's ExpiryQueue: expiry at (floor((last touch + timeout) / tick) + 1) × tick.
    expect(s.clock.nowMs).toBe((Math.floor((touchedAtMs + 8000) / 500) + 1) * 500);
    await s.clock.advanceBy(10);
    expect(s.isClosed()).toBe(true);
  });

  it('a request larger than jute.maxbuffer resets the connection unapplied; the session lives on', async () => {
    const s = raw({ maxBufferBytes: 1000 });
    await s.connect(4000);
    const reply = await s.send({ op: 'create', path: '/big', data: Buffer.alloc(0), mode: 'persistent' }, 1001);
    expect(reply).toBeUndefined();
    expect(s.isClosed()).toBe(true);
    expect(s.server.peek('/big')).toBeUndefined();
    expect(s.server.liveSessions()).toHaveLength(1);
  });

  it('lists children in an order drawn from the seed (ZooKeeper promises none)', async () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const s = raw({ seed });
      await s.connect(4000);
      for (const n of ['a', 'b', 'c', 'd', 'e']) await s.send({ op: 'create', path: `/${n}`, data: Buffer.alloc(0), mode: 'persistent' });
      orders.add((await s.send({ op: 'getChildren', path: '/', watch: false }))!.children!.join(','));
    }
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('SimZooKeeper options', () => {
  it('rejects bad options with a clear error', () => {
    const timers = new SimClock().timers('server');
    const random = new SeededRandom(1);
    expect(() => new SimZooKeeper({ timers, random, tickMs: 0 })).toThrow('sim-zookeeper: tickMs must be a positive integer, got 0');
    expect(() => new SimZooKeeper({ timers, random, minSessionTimeoutMs: 5000, maxSessionTimeoutMs: 4000 })).toThrow(
      'sim-zookeeper: session timeouts must satisfy 0 < min <= max, got min 5000, max 4000',
    );
    expect(() => new SimZooKeeper({ timers, random, maxBufferBytes: -1 })).toThrow('sim-zookeeper: maxBufferBytes must be a positive integer, got -1');
  });
});
