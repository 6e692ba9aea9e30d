import { afterEach, describe, expect, it, vi } from 'vitest';
import { ZkClient } from '../../src/zk/zk-client.js';
import { NodeExistsError, NoNodeError, BadVersionError, ZkUnavailableError, ZkClosedError } from '../../src/zk/zk-errors.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { waitFor } from '../support/wait-for.js';
import { zkConnect } from '../support/zk-connect.js';
import { systemClock, type Clock } from '../../src/clock/clock.js';
import type { SessionState } from '../../src/zk/session-state.js';

describe('ZkClient', () => {
  let ctx: ZkTestContext;
  afterEach(async () => ctx?.close());

  it('maps ZooKeeper errors to typed errors', async () => {
    ctx = new ZkTestContext('zk-errors');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    await expect(zk.getData(`${ctx.paths.root}/missing`)).rejects.toBeInstanceOf(NoNodeError);
    await zk.create(`${ctx.paths.root}/a`, 'x');
    await expect(zk.create(`${ctx.paths.root}/a`, 'y')).rejects.toBeInstanceOf(NodeExistsError);
    await expect(zk.setData(`${ctx.paths.root}/a`, 'z', 7)).rejects.toBeInstanceOf(BadVersionError);
    const err = await zk.getData(`${ctx.paths.root}/missing`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ZK_NO_NODE', zkCode: -101, path: `${ctx.paths.root}/missing` });
  });

  // An error that comes with a reply is made in the library's socket handler: its stack would name
  // only the library's frames, never the caller's. A dropped connection fails every request queued
  // on it at once, and 50 workers on one event loop spent 36 of 450 s making those stacks (docs/BENCHMARKS.md, 2026-12-06 22:16).
  it('an error that comes with a reply carries no stack; its message names the operation and the node', async () => {
    ctx = new ZkTestContext('zk-errors-stack');
    const zk = await ctx.client();
    const err = (await zk.getData(`${ctx.paths.root}/missing`).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(NoNodeError);
    expect(err.message).toBe(`zk: getData ${ctx.paths.root}/missing failed: NO_NODE[-101]`);
    expect(err.stack).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBeGreaterThan(0); // restored
  });

  it('commits a multi atomically and names the rejected operation', async () => {
    ctx = new ZkTestContext('zk-multi');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    const ok = await zk.commit(zk.transaction().create(`${ctx.paths.root}/x`, Buffer.from('1')).setData(`${ctx.paths.root}/x`, Buffer.from('2'), 0));
    expect(ok[1]?.stat?.version).toBe(1);
    expect(ok[1]?.stat?.mzxid).toBeGreaterThan(0n);
    const err = await zk
      .commit(zk.transaction().create(`${ctx.paths.root}/y`).create(`${ctx.paths.root}/x`).setData(`${ctx.paths.root}/x`, Buffer.from('3')))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkTransactionError);
    expect((err as ZkTransactionError).failedIndex).toBe(1);
    expect((err as ZkTransactionError).reason).toBeInstanceOf(NodeExistsError);
    expect(await zk.exists(`${ctx.paths.root}/y`)).toBeNull(); // nothing of the failed multi applied
  });

  it('a multi\'s setData gives the stat a read of the node gives', async () => {
    ctx = new ZkTestContext('zk-multi-stat');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    const path = `${ctx.paths.root}/s`;
    const [, set] = await zk.commit(zk.transaction().create(path, Buffer.from('a'), 'ephemeral').setData(path, Buffer.from('bcd'), 0));
    const read = await zk.getData(path);
    expect(set!.stat).toEqual(read.stat);
    expect(read.stat.ephemeralOwner).toBe(zk.sessionId);
    expect(read.data.toString()).toBe('bcd');
  });

  it('fails fast with ZkUnavailableError when no server answers', async () => {
    ctx = new ZkTestContext('zk-unavailable');
    const zk = new ZkClient({ connect: '127.0.0.1:1', connectTimeoutMs: 1000, logger: silentLogger() });
    await expect(zk.start()).rejects.toBeInstanceOf(ZkUnavailableError);
    expect(zk.state).toBe('closed');
    await expect(zk.getData('/')).rejects.toBeInstanceOf(ZkClosedError);
  });

  it('ephemeral nodes go when the session is closed; close is idempotent', async () => {
    ctx = new ZkTestContext('zk-close');
    const observer = await ctx.client();
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    await zk.create(`${ctx.paths.root}/e`, 'x', 'ephemeral');
    expect(await observer.exists(`${ctx.paths.root}/e`)).not.toBeNull();
    await zk.close();
    await zk.close();
    expect(zk.signal.aborted).toBe(true);
    expect(await observer.exists(`${ctx.paths.root}/e`)).toBeNull();
  });

  it('detects a frozen server itself: suspended, then lost within the lease, before the session could expire', async () => {
    ctx = new ZkTestContext('zk-frozen');
    const server = new ZooKeeperServer();
    await server.start();
    try {
      const zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 3000, logger: silentLogger() });
      const states: Array<{ state: SessionState; at: number }> = [];
      zk.on('state', (state) => states.push({ state, at: Date.now() }));
      await zk.start();
      const frozenAt = Date.now();
      server.pause(); // SIGSTOP: TCP stays open, nothing answers
      try {
        await waitFor(() => zk.state === 'lost', { timeoutMs: 10_000, message: 'session lost' });
      } finally {
        server.resume();
      }
      const suspended = states.find((s) => s.state === 'suspended');
      const lost = states.find((s) => s.state === 'lost')!;
      expect(suspended).toBeDefined();
      expect(suspended!.at).toBeLessThan(lost.at);
      // Lost before the server's earliest possible expiry (session timeout after the last contact).
      expect(lost.at - frozenAt).toBeLessThan(zk.sessionTimeoutMs);
      expect(zk.signal.aborted).toBe(true);
      await zk.close();
    } finally {
      await server.close();
    }
  });

  it('rides through a server restart on the same session (suspended → reconnected)', async () => {
    ctx = new ZkTestContext('zk-restart');
    const server = new ZooKeeperServer();
    await server.start();
    try {
      const zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 10_000, logger: silentLogger() });
      const states: SessionState[] = [];
      zk.on('state', (s) => states.push(s));
      await zk.start();
      await zk.create('/eph', 'x', 'ephemeral');
      await server.restart();
      await waitFor(() => zk.state === 'reconnected', { timeoutMs: 15_000, message: 'reconnected' });
      expect(states).toContain('suspended');
      expect(await zk.exists('/eph')).not.toBeNull(); // same session: ephemeral kept
      await zk.close();
    } finally {
      await server.close();
    }
  });
});

describe('ZkClient watchers', () => {
  let ctx: ZkTestContext;
  afterEach(async () => ctx?.close());

  // ZooKeeper keeps one watch per path and session, and its clients one registration per watcher
  // object and path; the library does too, by function identity. The client used to hand the library
  // a new wrapper at every read, so a watcher set again before its watch fired piled up (the console
  // bench warned "11 notification listeners added") and was called once per read when it fired.
  it('a watcher set several times on one path before its watch fires is called once, and nothing piles up', async () => {
    ctx = new ZkTestContext('zk-watchers');
    const zk = await ctx.client();
    const path = `${ctx.paths.root}/w`;
    await zk.mkdirp(path);
    const events: string[] = [];
    const watcher = (e: { type: string }) => void events.push(e.type);
    for (let i = 0; i < 12; i++) {
      await zk.getData(path, watcher);
      await zk.exists(path, watcher);
      await zk.getChildren(path, watcher);
    }
    await zk.setData(path, 'changed');
    await zk.create(`${path}/child`);
    await waitFor(() => events.length >= 2);
    await zk.getData(path); // a round trip: any further event would have arrived before its answer
    expect(events.sort()).toEqual(['childrenChanged', 'dataChanged']);
  });
});

describe('ZkClient.commit version checks', () => {
  let ctx: ZkTestContext;
  afterEach(async () => ctx?.close());

  it('an expected version of 0 is checked inside a multi (the library would send -1)', async () => {
    ctx = new ZkTestContext('zk-v0');
    const zk = await ctx.client();
    await zk.mkdirp(ctx.paths.root);
    const path = `${ctx.paths.root}/n`;
    await zk.create(path, 'a');
    await zk.setData(path, 'b'); // now at version 1
    for (const tx of [zk.transaction().setData(path, Buffer.from('c'), 0), zk.transaction().check(path, 0), zk.transaction().remove(path, 0)]) {
      const err = await zk.commit(tx).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZkTransactionError);
      expect((err as ZkTransactionError).reason).toBeInstanceOf(BadVersionError);
    }
    expect((await zk.getData(path)).data.toString()).toBe('b');
  });
});

describe('ZkClient.holdsLease()', () => {
  let ctx: ZkTestContext | undefined;
  afterEach(async () => ctx?.close());

  it('declares the session lost at once after an event-loop stall longer than the lease, before any timer runs', async () => {
    ctx = new ZkTestContext('holds-lease');
    const zk = await ctx.client({ sessionTimeoutMs: 2000 });
    expect(zk.holdsLease()).toBe(true);
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    // A stall: the event loop does not turn for longer than the lease (no I/O, no timers).
    const until = Date.now() + zk.leaseMs + 200;
    while (Date.now() < until) {
      /* busy */
    }
    expect(zk.holdsLease()).toBe(false);
    expect(states).toEqual(['lost']);
    expect(zk.signal.aborted).toBe(true);
  });

  it('sends the requests of one turn of the event loop together, not a system call each', async () => {
    ctx = new ZkTestContext('corked-writes');
    const zk = await ctx.client();
    const socket = (zk as unknown as { client: { connectionManager: { socket: { _write: unknown; _writev: unknown } } } }).client.connectionManager.socket;
    let sends = 0;
    for (const key of ['_write', '_writev'] as const) {
      const original = socket[key] as (...args: unknown[]) => unknown;
      socket[key] = function (this: unknown, ...args: unknown[]) {
        sends++;
        return original.apply(this, args);
      };
    }
    const answers = await Promise.all(Array.from({ length: 200 }, () => zk.exists('/')));
    expect(answers.every((stat) => stat !== null)).toBe(true);
    expect(sends).toBeLessThanOrEqual(3);
  });

  it('reads the replies of one socket read without copying the rest of the read once per reply', async () => {
    ctx = new ZkTestContext('reply-copies');
    const zk = await ctx.client();
    const socket = (zk as unknown as { client: { connectionManager: { socket: NodeJS.EventEmitter } } }).client.connectionManager.socket;
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    let copied = 0;
    const concat = Buffer.concat;
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
      const out = concat(list, length);
      copied += out.length;
      return out;
    });
    try {
      const answers = await Promise.all(Array.from({ length: 3000 }, () => zk.exists('/')));
      expect(answers.every((stat) => stat !== null)).toBe(true);
    } finally {
      spy.mockRestore();
    }
    expect(received).toBeGreaterThan(3000 * 80);
    // A partial frame at the end of a read is joined to the next read: about one read's worth at most.
    expect(copied).toBeLessThan(received * 2);
  });

  it('is not renewed by an answer read after a stall: the lease runs from the send time of the request', async () => {
    ctx = new ZkTestContext('lease-stall-reply');
    const zk = await ctx.client({ sessionTimeoutMs: 3000 });
    expect(zk.holdsLease()).toBe(true);
    // In a timer callback, so that the event loop goes on to read the socket (poll phase) before it
    // runs the timers that came due during the stall, as a process that wakes from a freeze does.
    const heldAfterReply = await new Promise<boolean>((resolve, reject) => {
      setTimeout(() => {
        const reply = zk.exists('/'); // written now; the socket sends it on the next tick (corked)
        process.nextTick(() => {
          // After that tick: stalled while the answer lands in the socket buffer, nothing reads it.
          const until = performance.now() + zk.leaseMs + 300;
          while (performance.now() < until) {
            /* stalled */
          }
          reply.then(() => resolve(zk.holdsLease()), reject);
        });
      }, 0);
    });
    expect(heldAfterReply).toBe(false);
    expect(zk.state).toBe('lost');
  });

  it('a stall longer than the margin but inside the lease keeps the session (the lease is judged by its send times)', async () => {
    ctx = new ZkTestContext('lease-late-check');
    const zk = await ctx.client({ sessionTimeoutMs: 6000 }); // lease 4,000 ms, margin 2,000 ms
    await zk.exists('/'); // answered just now: renewed to its send time
    const until = performance.now() + zk.leaseMarginMs + 300;
    while (performance.now() < until) {
      /* stalled: no check ran for longer than the margin, but less than the lease */
    }
    expect(zk.holdsLease()).toBe(true);
    expect(zk.state).toBe('connected');
  });

  it('runs on a monotonic clock: wall-clock steps neither end nor stretch it', async () => {
    ctx = new ZkTestContext('lease-wall-clock');
    const zk = await ctx.client({ sessionTimeoutMs: 3000 });
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + 3_600_000; // set forward an hour
      expect(zk.holdsLease()).toBe(true);
      Date.now = () => realNow() - 3_600_000; // and back
      expect(zk.holdsLease()).toBe(true);
      const until = performance.now() + zk.leaseMs + 300;
      while (performance.now() < until) {
        /* stalled past the lease: the step back must not stretch it */
      }
      expect(zk.holdsLease()).toBe(false);
    } finally {
      Date.now = realNow;
    }
  });

  it('an idle session renews its lease with pings of its own, far more often than the library (T/3)', async () => {
    ctx = new ZkTestContext('lease-idle');
    const zk = await ctx.client({ sessionTimeoutMs: 6000 }); // lease 4,000 ms; own pings every 500 ms
    const states: SessionState[] = [];
    zk.on('state', (s) => states.push(s));
    const start = performance.now();
    let lowest = Number.POSITIVE_INFINITY;
    await waitFor(
      () => {
        lowest = Math.min(lowest, zk.leaseRemainingMs());
        return performance.now() - start > 2500; // longer than the library's idle ping interval (2 s)
      },
      { intervalMs: 20, timeoutMs: 5000, message: 'idle period observed' },
    );
    expect(states).toEqual([]);
    // Renewed at least every ping interval + watchdog tick (750 ms), with room for a loaded machine;
    // the library's own pings alone would let it fall to about 2,000 ms.
    expect(lowest).toBeGreaterThan(zk.leaseMs - 750 - 500);
  });

  it('runs on the injected clock (Clock): time moved past the lease ends it', async () => {
    let offsetMs = 0;
    const clock: Clock = { ...systemClock, monotonic: () => performance.now() + offsetMs };
    const zk = new ZkClient({ connect: zkConnect(), sessionTimeoutMs: 3000, logger: silentLogger(), clock });
    try {
      await zk.start();
      expect(zk.leaseRemainingMs()).toBeGreaterThan(0);
      offsetMs = zk.leaseMs;
      expect(zk.holdsLease()).toBe(false);
      expect(zk.state).toBe('lost');
    } finally {
      await zk.close();
    }
  });

  it('is false before the session starts', () => {
    expect(new ZkClient({ connect: '127.0.0.1:1' }).holdsLease()).toBe(false);
  });
});
