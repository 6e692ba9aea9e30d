import { describe, expect, it } from 'vitest';
import { ConnectionLossError, ZkClosedError, ZkTimeoutError, ZkUnavailableError } from '../../src/zk/zk-errors.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import type { SessionState } from '../../src/zk/session-state.js';
import type { ZkWatchEvent } from '../../src/zk/zk-watch-event.js';
import type { SimZkClient } from '../../src/simulation/sim-zk-client.js';
import { SimWorld } from './sim-world.js';

function stateLog(w: SimWorld, zk: SimZkClient): Array<{ state: SessionState; atMs: number }> {
  const log: Array<{ state: SessionState; atMs: number }> = [];
  zk.on('state', (state) => log.push({ state, atMs: w.clock.nowMs }));
  return log;
}

describe('SimZkClient: connection loss with an unknown outcome', () => {
  it('a request lost before the server got it fails with ConnectionLoss and was not applied', async () => {
    const w = new SimWorld(1);
    const zk = await w.started();
    zk.loseNextRequest('before-apply');
    await expect(w.settle(zk.create('/a', 'x'))).rejects.toBeInstanceOf(ConnectionLossError);
    expect(w.server.peek('/a')).toBeUndefined();
    expect(await w.settle(zk.waitLive(3000))).toBe(true);
    expect(await w.settle(zk.exists('/a'))).toBeNull();
  });

  it('a request applied whose answer was lost fails with ConnectionLoss too, and was applied', async () => {
    const w = new SimWorld(2);
    const zk = await w.started();
    zk.loseNextRequest('after-apply');
    await expect(w.settle(zk.create('/a', 'x'))).rejects.toBeInstanceOf(ConnectionLossError);
    expect(w.server.peek('/a')?.data.toString()).toBe('x');
    expect(await w.settle(zk.waitLive(3000))).toBe(true);
    expect(await w.settle(zk.exists('/a'))).not.toBeNull();
  });

  it('a multi meeting a connection loss fails with failedIndex -1, applied or not', async () => {
    for (const loss of ['before-apply', 'after-apply'] as const) {
      const w = new SimWorld(3);
      const zk = await w.started();
      zk.loseNextRequest(loss);
      const err = await w.settle(zk.commit(zk.transaction().create('/m', Buffer.from('1')))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZkTransactionError);
      expect((err as ZkTransactionError).failedIndex).toBe(-1);
      expect((err as ZkTransactionError).reason).toBeInstanceOf(ConnectionLossError);
      expect(w.server.peek('/m') !== undefined).toBe(loss === 'after-apply');
    }
  });

  it('with a loss rate, the seed decides each outcome: both happen, and a seed always gives the same ones', async () => {
    const outcomes = async (seed: number): Promise<string> => {
      const w = new SimWorld(seed);
      const zk = await w.started({ connectionLossRate: 0.5 });
      let out = '';
      for (let i = 0; i < 12; i++) {
        const ok = await w.settle(zk.create(`/n${i}`)).then(() => true, () => false);
        if (!ok) await w.settle(zk.waitLive(3000));
        out += ok ? 'o' : w.server.peek(`/n${i}`) ? 'A' : 'L';
      }
      return out;
    };
    const a = await outcomes(7);
    expect(a).toMatch(/o/);
    expect(a).toMatch(/A/); // lost answer, applied
    expect(a).toMatch(/L/); // lost request, not applied
    expect(await outcomes(7)).toBe(a);
  });
});

describe('SimZkClient: sessions, lease and expiry on the simulated clock', () => {
  it('a frozen process: the server expires its session after the timeout; thawed, the client finds its lease gone', async () => {
    const w = new SimWorld(4);
    const observer = await w.started({ sessionTimeoutMs: 10_000 });
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    await w.settle(zk.create('/e', 'x', 'ephemeral'));
    let goneAtMs = 0;
    await w.settle(observer.exists('/e', () => (goneAtMs = w.clock.nowMs)));
    const frozenAtMs = w.clock.nowMs;
    zk.freeze();
    await w.until(() => goneAtMs > 0);
    // Expired by the server between one timeout and one timeout plus a tick after its last ping.
    expect(goneAtMs - frozenAtMs).toBeGreaterThan(3000 - 1000);
    expect(goneAtMs - frozenAtMs).toBeLessThanOrEqual(3000 + 500);
    expect(zk.state).toBe('connected'); // it has not run since
    expect(zk.holdsLease()).toBe(false); // the check runs now, even frozen
    expect(zk.state).toBe('lost');
    zk.thaw();
    await w.clock.advanceBy(5000);
    expect(states.map((s) => s.state)).toEqual(['lost']);
    expect(zk.signal.reason).toMatchObject({ code: 'ZK_SESSION_LOST' });
  });

  it('the lease runs from the send time of the last answered request: a reply read after a stall does not renew it', async () => {
    for (const stallMs of [1900, 2100]) {
      const w = new SimWorld(10);
      const zk = await w.started({ sessionTimeoutMs: 3000 }); // lease 2,000 ms
      const states = stateLog(w, zk);
      const read = zk.getData('/');
      zk.freeze(); // the reply arrives while the process is stalled, and is read when it thaws
      await w.clock.advanceBy(stallMs);
      zk.thaw();
      expect((await w.settle(read)).stat.version).toBe(0);
      await w.clock.advanceBy(3000);
      if (stallMs < 2000) {
        // Past the read timeout: the connection is dropped and the same session comes back.
        expect(states.map((s) => s.state)).toEqual(['suspended', 'reconnected']);
      } else {
        // Past the lease counted from the request's send time, though its reply was just read.
        expect(states.map((s) => s.state)).toEqual(['lost']);
      }
    }
  });

  it('pings keep an idle session answered: no state change over many session timeouts', async () => {
    const w = new SimWorld(11);
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    zk.dropConnection();
    await w.clock.advanceBy(30_000);
    expect(states.map((s) => s.state)).toEqual(['suspended', 'reconnected']);
    expect(zk.holdsLease()).toBe(true);
  });

  it('a crashed process: the server sees the connection go but keeps the session (and its ephemerals) until it expires', async () => {
    const w = new SimWorld(14);
    const observer = await w.started({ sessionTimeoutMs: 10_000 });
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    await w.settle(zk.create('/e', 'x', 'ephemeral'));
    let goneAtMs = 0;
    await w.settle(observer.exists('/e', () => (goneAtMs = w.clock.nowMs)));
    const crashedAtMs = w.clock.nowMs;
    w.clock.timers(zk.process).setTimeout(() => states.push({ state: 'closed', atMs: -1 }), 10); // another timer of the process
    zk.crash();
    await w.clock.advanceBy(2000);
    expect(w.server.peek('/e')).toBeDefined();
    await w.until(() => goneAtMs > 0);
    expect(goneAtMs - crashedAtMs).toBeGreaterThan(3000);
    expect(goneAtMs - crashedAtMs).toBeLessThanOrEqual(3000 + 500);
    expect(states).toEqual([]);
  });

  it('a partition: suspended after half the session timeout, lost at the lease, before the server expires the session', async () => {
    const w = new SimWorld(5);
    const observer = await w.started({ sessionTimeoutMs: 10_000 });
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    await w.settle(zk.create('/e', 'x', 'ephemeral'));
    let goneAtMs = 0;
    await w.settle(observer.exists('/e', () => (goneAtMs = w.clock.nowMs)));
    const cutAtMs = w.clock.nowMs;
    zk.partition();
    await w.until(() => goneAtMs > 0);
    const suspended = states.find((s) => s.state === 'suspended')!;
    const lost = states.find((s) => s.state === 'lost')!;
    expect(suspended.atMs - cutAtMs).toBeLessThanOrEqual(1500 + 250);
    expect(lost.atMs - cutAtMs).toBeLessThanOrEqual(2000 + 250);
    expect(lost.atMs).toBeLessThan(goneAtMs);
    zk.heal();
    await w.clock.advanceBy(5000);
    expect(states.map((s) => s.state)).toEqual(['suspended', 'lost']);
  });

  it('a slow network delays every reply by its latency; replies keep their order', async () => {
    const w = new SimWorld(15);
    const zk = await w.started({ sessionTimeoutMs: 6000 });
    zk.setLatency({ minMs: 200, maxMs: 300 });
    const sentAtMs = w.clock.nowMs;
    const order: string[] = [];
    const a = zk.create('/a').then(() => order.push('a'));
    const b = zk.exists('/a').then((s) => order.push(s ? 'b saw a' : 'b missed a'));
    await w.settle(Promise.all([a, b]));
    expect(order).toEqual(['a', 'b saw a']);
    expect(w.clock.nowMs - sentAtMs).toBeGreaterThanOrEqual(400);
    expect(w.clock.nowMs - sentAtMs).toBeLessThanOrEqual(600);
    expect(() => zk.setLatency({ minMs: -1, maxMs: 1 })).toThrow('sim-zk-client: latency must satisfy 0 <= minMs <= maxMs, got {"minMs":-1,"maxMs":1}');
  });

  it('a frozen server (SIGSTOP: connections open, nothing answers): suspended, then lost within the lease', async () => {
    const w = new SimWorld(16);
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    const frozenAtMs = w.clock.nowMs;
    w.clock.freeze('server');
    await w.until(() => zk.state === 'lost');
    expect(states.map((s) => s.state)).toEqual(['suspended', 'lost']);
    expect(states[1]!.atMs - frozenAtMs).toBeLessThan(zk.sessionTimeoutMs);
    w.clock.thaw('server');
    // Thawed, the server expires the sessions it did not hear from for their timeout.
    await w.until(() => w.server.liveSessions().length === 0);
  });

  it('a short partition holds messages and delivers them after it heals: nothing fails, no state change', async () => {
    const w = new SimWorld(6);
    const zk = await w.started({ sessionTimeoutMs: 3000 });
    const states = stateLog(w, zk);
    zk.partition();
    const created = zk.create('/late', 'x');
    await w.clock.advanceBy(700);
    expect(w.server.peek('/late')).toBeUndefined();
    zk.heal();
    expect(await w.settle(created)).toBe('/late');
    expect(states).toEqual([]);
  });

  it('requests made while disconnected go out once reconnected; one past its timeout fails with ZkTimeoutError and may still be applied', async () => {
    const w = new SimWorld(8);
    // Lease 4,000 ms, suspended after 3,000 ms of silence: 1,000 ms left to come back in.
    const zk = await w.started({ sessionTimeoutMs: 6000, requestTimeoutMs: 400 });
    zk.partition();
    await w.until(() => zk.state === 'suspended');
    const early = zk.create('/early', 'x').catch((e: unknown) => e);
    await w.clock.advanceBy(500);
    const late = zk.create('/late', 'y');
    await w.clock.advanceBy(100);
    zk.heal();
    expect(await w.settle(early)).toBeInstanceOf(ZkTimeoutError);
    expect(await w.settle(late)).toBe('/late');
    expect(zk.state).toBe('reconnected');
    // As with node-zookeeper-client, a timed-out request stays queued: sent on reconnect, it is
    // applied after its caller was told it timed out. A timeout is an unknown outcome.
    expect(w.server.peek('/early')?.data.toString()).toBe('x');
  });

  it('watches come back after a reconnect, fired for what changed meanwhile (ZooKeeper set-watches)', async () => {
    const w = new SimWorld(9);
    const zk = await w.started({ sessionTimeoutMs: 6000 });
    const writer = await w.started();
    for (const p of ['/changed', '/deleted', '/parent', '/same']) await w.settle(writer.create(p, 'a'));
    const events: ZkWatchEvent[] = [];
    const rec = (e: ZkWatchEvent) => events.push(e);
    await w.settle(zk.getData('/changed', rec));
    await w.settle(zk.getData('/deleted', rec));
    await w.settle(zk.getChildren('/parent', rec));
    await w.settle(zk.exists('/created', rec));
    await w.settle(zk.getData('/same', rec));
    // The server drops the connection (and its watches); the client hears of it only later.
    zk.partition();
    zk.dropConnection();
    await w.settle(writer.setData('/changed', 'b'));
    await w.settle(writer.remove('/deleted'));
    await w.settle(writer.create('/parent/kid'));
    await w.settle(writer.create('/created'));
    expect(events).toEqual([]);
    zk.heal();
    await w.until(() => zk.state === 'reconnected');
    await w.settle(zk.exists('/'));
    expect(events.map((e) => `${e.type} ${e.path}`).sort()).toEqual(['childrenChanged /parent', 'created /created', 'dataChanged /changed', 'deleted /deleted']);
    // The unchanged node's watch was re-armed on the server: it still fires.
    await w.settle(writer.setData('/same', 'b'));
    await w.settle(zk.exists('/'));
    expect(events.at(-1)).toEqual({ type: 'dataChanged', path: '/same' });
  });
});

describe('SimZkClient: start', () => {
  it('fails with ZkUnavailableError when no server answers within the connect timeout, and is closed', async () => {
    const w = new SimWorld(13);
    const zk = w.client({ connectTimeoutMs: 1000 });
    zk.partition();
    const started = zk.start().catch((e: unknown) => e);
    const err = await w.settle(started);
    expect(err).toBeInstanceOf(ZkUnavailableError);
    expect(err).toMatchObject({ code: 'ZK_UNAVAILABLE', message: 'zk: could not connect to sim:p0 within 1000 ms' });
    expect(w.clock.nowMs).toBe(1000);
    expect(zk.state).toBe('closed');
    await expect(w.settle(zk.getData('/'))).rejects.toBeInstanceOf(ZkClosedError);
    await expect(w.settle(zk.start())).rejects.toThrow('zk: start() called in state closed');
  });
});

describe('SimZkClient options', () => {
  it('rejects bad options with a clear error', () => {
    const w = new SimWorld(12);
    expect(() => w.client({ connectionLossRate: 2 })).toThrow('sim-zk-client: connectionLossRate must be between 0 and 1, got 2');
    expect(() => w.client({ latency: { minMs: 5, maxMs: 1 } })).toThrow('sim-zk-client: latency must satisfy 0 <= minMs <= maxMs, got {"minMs":5,"maxMs":1}');
    expect(() => w.client({ process: 'server' })).toThrow(/process must be a name .* other than 'server', got "server"/);
    expect(() => w.client({ leaseFraction: 1 })).toThrow('zk: `leaseFraction` must be between 0 and 1, got 1');
  });
});
