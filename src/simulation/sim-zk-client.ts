import assert from 'node:assert';
import { EventEmitter } from 'node:events';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { isLive, isTerminal, waitUntilLive, type SessionState, type SessionStateSource } from '../zk/session-state.js';
import type { ZkCreateMode, ZkSession } from '../zk/zk-session.js';
import type { ZkStat } from '../zk/zk-stat.js';
import type { ZkWatcher, ZkWatchEvent } from '../zk/zk-watch-event.js';
import { ZkTransaction, ZkTransactionError, type ZkOpResult } from '../zk/zk-transaction.js';
import { DEFAULT_MAX_REQUEST_BYTES, MAX_MAX_REQUEST_BYTES, MIN_MAX_REQUEST_BYTES } from '../zk/multi-size.js';
import {
  mapZkError,
  NodeExistsError,
  NoNodeError,
  RequestTooLargeError,
  zkCodeName,
  ZkClosedError,
  ZkTimeoutError,
  ZkUnavailableError,
  type ZkError,
} from '../zk/zk-errors.js';
import type { ZkClientEvents } from '../zk/zk-client.js';
import type { SimClock, SimTimer, SimTimers } from './sim-clock.js';
import { SimConnection, type SimRequestLoss } from './sim-connection.js';
import { PING_XID, type SimNodeStat, type SimReply, type SimRequest, type SimServerMessage } from './sim-protocol.js';
import type { SimZooKeeper } from './sim-zookeeper.js';
import type { SeededRandom } from './seeded-random.js';
import type { SimTrace } from './sim-trace.js';

export interface SimZkClientOptions {
  server: SimZooKeeper;
  clock: SimClock;
  /** The simulated process the session belongs to: its timers run on it and freeze with it. */
  process: string;
  /** This session's own stream of choices (latencies, reconnect delays, injected losses). */
  random: SeededRandom;
  /** @default 6000 */
  sessionTimeoutMs?: number;
  /** @default sessionTimeoutMs */
  connectTimeoutMs?: number;
  /** @default sessionTimeoutMs */
  requestTimeoutMs?: number;
  /** @default 2/3 */
  leaseFraction?: number;
  /** @default DEFAULT_MAX_REQUEST_BYTES */
  maxRequestBytes?: number;
  /** One-way network latency range, ms. @default { minMs: 0.05, maxMs: 1 } */
  latency?: { minMs: number; maxMs: number };
  /** Chance that a request meets a connection reset, half of them before and half after it is applied. @default 0 */
  connectionLossRate?: number;
  trace?: SimTrace;
}

/** The library's own data-size check (node-zookeeper-client's DATA_SIZE_LIMIT). */
const DATA_SIZE_LIMIT = 1_048_576;
const CONNECTION_LOSS = -4;
const SESSION_EXPIRED = -112;

type LibState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closing' | 'closed' | 'expired';

interface Packet {
  request: SimRequest;
  bytes: number;
  sentAtMs: number;
  callback: (err: number, reply: SimReply | undefined) => void;
}

/**
 * A `ZkSession` over the simulated ZooKeeper: one session of one simulated process. It behaves as
 * `ZkClient` over node-zookeeper-client does, as far as protocol code can observe — the same
 * states, lease, read timeout, request timeouts, typed errors and messages; requests answered in
 * order; watch events before the replies that follow them; requests made while disconnected sent
 * on reconnect (before the re-armed watches, as that library does); watches re-armed against the
 * last zxid seen — with fault hooks for the simulation's scheduler: connection resets (a request
 * in flight applied or not), partitions, a frozen process, server-side expiry.
 *
 * The lease runs from the send time of the last request (or ping) whose answer arrived, on the
 * monotonic clock (PRODUCT §4.3).
 */
export class SimZkClient extends EventEmitter<ZkClientEvents> implements ZkSession {
  readonly maxRequestBytes: number;
  readonly process: string;
  private readonly server: SimZooKeeper;
  private readonly clock: SimClock;
  private readonly timers: SimTimers;
  private readonly random: SeededRandom;
  private readonly trace: SimTrace | undefined;
  private readonly requestedTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly leaseFraction: number;
  private latency: { minMs: number; maxMs: number };
  private readonly connectionLossRate: number;

  private currentState: SessionState = 'latent';
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private onCloseDone: (() => void) | undefined;

  // The "library" part: connection, session, queues, watchers.
  private lib: LibState = 'idle';
  private conn: SimConnection | undefined;
  private nextConnId = 1;
  private sessionBig = 0n;
  private negotiatedTimeoutMs = 0;
  private lastZxid = 0n;
  private xid = 1;
  private readonly queue: Packet[] = [];
  private readonly pending: Packet[] = [];
  private readonly pings: number[] = [];
  private connectSentAtMs = 0;
  private lastAnsweredSentAtMs = 0;
  private failedAttempts = 0;
  private partitioned = false;
  private crashed = false;
  private readonly dataWatchers = new Map<string, ZkWatcher[]>();
  private readonly existWatchers = new Map<string, ZkWatcher[]>();
  private readonly childWatchers = new Map<string, ZkWatcher[]>();
  private pingTimer: SimTimer | undefined;
  private reconnectTimer: SimTimer | undefined;
  private watchdog: SimTimer | undefined;

  constructor(options: SimZkClientOptions) {
    super();
    this.server = options.server;
    this.clock = options.clock;
    this.process = options.process;
    this.timers = options.clock.timers(options.process);
    this.random = options.random;
    this.trace = options.trace;
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? 6000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? this.requestedTimeoutMs;
    this.requestTimeoutMs = options.requestTimeoutMs ?? this.requestedTimeoutMs;
    this.leaseFraction = options.leaseFraction ?? 2 / 3;
    if (!(this.leaseFraction > 0 && this.leaseFraction < 1)) {
      throw new RangeError(`zk: \`leaseFraction\` must be between 0 and 1, got ${this.leaseFraction}`);
    }
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    if (!Number.isInteger(this.maxRequestBytes) || this.maxRequestBytes < MIN_MAX_REQUEST_BYTES || this.maxRequestBytes > MAX_MAX_REQUEST_BYTES) {
      throw new RangeError(`zk: \`maxRequestBytes\` must be an integer in ${MIN_MAX_REQUEST_BYTES}..${MAX_MAX_REQUEST_BYTES}, got ${this.maxRequestBytes}`);
    }
    this.latency = checkLatency(options.latency ?? { minMs: 0.05, maxMs: 1 });
    this.connectionLossRate = options.connectionLossRate ?? 0;
    if (!(this.connectionLossRate >= 0 && this.connectionLossRate <= 1)) {
      throw new RangeError(`sim-zk-client: connectionLossRate must be between 0 and 1, got ${this.connectionLossRate}`);
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(options.process) || options.process === 'server') {
      throw new RangeError(`sim-zk-client: process must be a name of letters, digits, '.', '_' or '-' other than 'server', got ${JSON.stringify(options.process)}`);
    }
  }

  // ---- ZkSession: state ----------------------------------------------------------------------

  get state(): SessionState {
    return this.currentState;
  }

  /** The simulation models no authentication (docs/ARCHITECTURE.md, Simulation). */
  get user(): string {
    return 'anonymous';
  }

  get connectString(): string {
    return `sim:${this.process}`;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get sessionId(): string {
    return this.sessionBig === 0n ? '' : hex(this.sessionBig);
  }

  /** The session id as the server knows it (for `SimZooKeeper.expireSession`). */
  get serverSessionId(): bigint {
    return this.sessionBig;
  }

  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMs > 0 ? this.negotiatedTimeoutMs : this.requestedTimeoutMs;
  }

  get leaseMs(): number {
    return Math.floor(this.sessionTimeoutMs * this.leaseFraction);
  }

  waitLive(timeoutMs: number): Promise<boolean> {
    return waitUntilLive(this as SessionStateSource, (fn, ms) => {
      const timer = this.timers.setTimeout(fn, ms);
      return () => this.timers.clearTimeout(timer);
    }, timeoutMs);
  }

  /** Connects; resolves once a session is established, rejects with `ZkUnavailableError` after `connectTimeoutMs`. */
  async start(): Promise<void> {
    if (this.currentState !== 'latent') throw new IllegalStateError(`zk: start() called in state ${this.currentState}`);
    this.setState('connecting');
    const connected = new Promise<void>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        off();
        reject(new ZkUnavailableError('ZK_UNAVAILABLE', `zk: could not connect to ${this.connectString} within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      const onState = (state: SessionState) => {
        if (isLive(state)) {
          off();
          resolve();
        } else if (isTerminal(state)) {
          off();
          reject(new ZkUnavailableError('ZK_UNAVAILABLE', `zk: session to ${this.connectString} ended while connecting (${state})`));
        }
      };
      const off = () => {
        this.timers.clearTimeout(timer);
        this.off('state', onState);
      };
      this.on('state', onState);
    });
    this.lib = 'connecting';
    this.openConnection();
    try {
      await connected;
    } catch (err) {
      this.terminate('closed', err as ZkError);
      throw err;
    }
    const tick = Math.max(25, Math.min(250, Math.floor(this.sessionTimeoutMs / 12)));
    this.watchdog = this.timers.setInterval(() => this.checkLiveness(), tick);
  }

  holdsLease(): boolean {
    this.checkLiveness();
    return !isTerminal(this.currentState) && this.currentState !== 'latent';
  }

  /** Milliseconds left of the lease (0 once it is lost), as `ZkClient.leaseRemainingMs`. */
  leaseRemainingMs(): number {
    if (!this.holdsLease()) return 0;
    return Math.max(0, this.lastAnsweredSentAtMs + this.leaseMs - this.timers.monotonicNow());
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (isTerminal(this.currentState) || this.lib === 'idle') {
      this.terminate('closed');
      return;
    }
    if (isLive(this.currentState)) {
      await new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(() => finish(), Math.min(2000, this.sessionTimeoutMs / 3));
        const finish = () => {
          this.timers.clearTimeout(timer);
          this.onCloseDone = undefined;
          resolve();
        };
        this.onCloseDone = finish;
        this.lib = 'closing';
        this.send({ request: { op: 'closeSession' }, bytes: 8, sentAtMs: 0, callback: () => {} });
      });
    }
    this.terminate('closed');
  }

  // ---- ZkSession: operations -----------------------------------------------------------------

  create(path: string, data?: Buffer | string, mode: ZkCreateMode = 'persistent'): Promise<string> {
    const buf = toBuffer(data) ?? Buffer.alloc(0);
    return this.call('create', path, () => {
      validatePath(path);
      assert(buf.length <= DATA_SIZE_LIMIT, `data must be equal of smaller than ${DATA_SIZE_LIMIT} bytes.`);
      return this.request({ op: 'create', path, data: buf, mode }, createBytes(path, buf));
    }).then((r) => r.path!);
  }

  async mkdirp(path: string): Promise<void> {
    await this.call('mkdirp', path, async () => {
      validatePath(path);
      let current = '';
      for (const part of path.split('/').slice(1)) {
        current = `${current}/${part}`;
        const empty = Buffer.alloc(0);
        try {
          await this.request({ op: 'create', path: current, data: empty, mode: 'persistent' }, createBytes(current, empty));
        } catch (err) {
          if ((err as { code?: number }).code !== -110) throw err;
        }
      }
      return { xid: 0, zxid: 0n, err: 0 };
    });
  }

  async getData(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }> {
    const r = await this.call('getData', path, async () => {
      validatePath(path);
      const reply = await this.request({ op: 'getData', path, watch: !!watcher }, readBytes(path));
      if (watcher) addWatcher(this.dataWatchers, path, watcher);
      return reply;
    });
    return { data: Buffer.from(r.data ?? Buffer.alloc(0)), stat: toStat(r.stat!) };
  }

  async getDataIfExists(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat } | null> {
    try {
      return await this.getData(path, watcher);
    } catch (err) {
      if (err instanceof NoNodeError) return null;
      throw err;
    }
  }

  async exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | null> {
    const r = await this.call('exists', path, async () => {
      validatePath(path);
      let reply: SimReply;
      try {
        reply = await this.request({ op: 'exists', path, watch: !!watcher }, readBytes(path));
      } catch (err) {
        if ((err as { code?: number }).code !== -101) throw err;
        reply = { xid: 0, zxid: 0n, err: -101, stat: null };
      }
      if (watcher) addWatcher(reply.stat ? this.dataWatchers : this.existWatchers, path, watcher);
      return reply;
    });
    return r.stat ? toStat(r.stat) : null;
  }

  async getChildren(path: string, watcher?: ZkWatcher): Promise<string[]> {
    const r = await this.call('getChildren', path, async () => {
      validatePath(path);
      const reply = await this.request({ op: 'getChildren', path, watch: !!watcher }, readBytes(path));
      if (watcher) addWatcher(this.childWatchers, path, watcher);
      return reply;
    });
    return r.children ?? [];
  }

  async setData(path: string, data: Buffer | string, version = -1): Promise<ZkStat> {
    const buf = toBuffer(data)!;
    const r = await this.call('setData', path, () => {
      validatePath(path);
      assert(buf.length <= DATA_SIZE_LIMIT, `data must be equal of smaller than ${DATA_SIZE_LIMIT} bytes.`);
      return this.request({ op: 'setData', path, data: buf, version }, 8 + str(path) + 4 + buf.length + 4);
    });
    return toStat(r.stat!);
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.call('remove', path, () => {
      validatePath(path);
      return this.request({ op: 'delete', path, version }, 8 + str(path) + 4);
    });
  }

  async createIfAbsent(path: string, data?: Buffer | string): Promise<boolean> {
    try {
      await this.create(path, data, 'persistent');
      return true;
    } catch (err) {
      if (err instanceof NodeExistsError) return false;
      throw err;
    }
  }

  transaction(): ZkTransaction {
    return new ZkTransaction(this.maxRequestBytes, 0);
  }

  async commit(tx: ZkTransaction): Promise<ZkOpResult[]> {
    if (tx.size === 0) return [];
    if (tx.bytes > this.maxRequestBytes) {
      throw new RequestTooLargeError('ZK_REQUEST_TOO_LARGE', `zk: multi of ${tx.size} ops is ${tx.bytes} bytes, more than maxRequestBytes (${this.maxRequestBytes}); not sent`, { path: tx.ops[0]!.path });
    }
    for (const op of tx.ops) validatePath(op.path);
    const ops = tx.ops.slice();
    let reply: SimReply | undefined;
    try {
      reply = await this.call('multi', ops[0]!.path, async () => {
        try {
          return await this.request({ op: 'multi', ops }, tx.bytes);
        } catch (err) {
          reply = (err as { reply?: SimReply }).reply;
          throw err;
        }
      });
    } catch (err) {
      const index = reply?.results?.findIndex((r) => r.err !== undefined && r.err !== 0 && r.err !== -2) ?? -1;
      throw new ZkTransactionError(err as ZkError, index, index >= 0 ? tx.ops[index] : undefined);
    }
    return (reply!.results ?? []).map((r, i) => ({
      type: tx.ops[i]!.type,
      path: r.path,
      stat: r.stat ? toStat(r.stat) : undefined,
    }));
  }

  // ---- fault hooks (driven by the simulation's scheduler) --------------------------------------

  /** A connection reset: both ends notice; a request in flight may or may not have been applied. */
  dropConnection(): void {
    this.trace?.record(this.process, 'fault: connection reset');
    this.conn?.abort();
  }

  /** The next request to reach the server is lost before it, or applied with its answer lost (the connection resets). */
  loseNextRequest(loss: SimRequestLoss): void {
    this.trace?.record(this.process, `fault: next request lost ${loss}`);
    this.conn?.loseNextRequest(loss);
  }

  /** Fault: a slow (or fast again) network: the one-way latency of every message sent from now on. */
  setLatency(latency: { minMs: number; maxMs: number }): void {
    this.latency = checkLatency(latency);
    this.trace?.record(this.process, `fault: latency ${latency.minMs}..${latency.maxMs} ms`);
  }

  /** Nothing moves between this client and the server until `heal()`; nobody is told. */
  partition(): void {
    this.trace?.record(this.process, 'fault: partition');
    this.partitioned = true;
  }

  heal(): void {
    if (!this.partitioned) return;
    this.trace?.record(this.process, 'fault: partition healed');
    this.partitioned = false;
    this.conn?.resume();
  }

  /** The whole process stalls: no pings, no timers, nothing read, until `thaw()`. */
  freeze(): void {
    this.trace?.record(this.process, 'fault: frozen');
    this.clock.freeze(this.process);
  }

  thaw(): void {
    this.trace?.record(this.process, 'fault: thawed');
    this.clock.thaw(this.process);
  }

  /**
   * The process dies (SIGKILL, a machine lost): its socket closes, so the server sees the
   * connection go, but nobody asks it to close the session, which lives until it expires. Nothing
   * more happens on this side: every timer of the process is dropped (`SimClock.kill`), no state
   * event, no callback; the object is dead.
   */
  crash(): void {
    this.trace?.record(this.process, 'fault: crashed');
    this.crashed = true;
    this.clock.kill(this.process);
    this.watchdog = this.pingTimer = this.reconnectTimer = undefined;
    this.lib = 'closed';
    this.queue.length = 0;
    this.pending.length = 0;
    this.conn?.abortByClient();
    this.conn = undefined;
  }

  // ---- the ZkClient layer: request timeouts, error mapping -------------------------------------

  private call(op: string, path: string, run: () => Promise<SimReply>): Promise<SimReply> {
    if (this.crashed || this.lib === 'idle' || isTerminal(this.currentState) || this.currentState === 'latent') {
      return Promise.reject(new ZkClosedError('ZK_CLOSED', `zk: ${op} ${path}: client is ${this.currentState}`, { path }));
    }
    return new Promise<SimReply>((resolve, reject) => {
      let settled = false;
      const timer = this.timers.setTimeout(() => {
        settled = true;
        reject(new ZkTimeoutError('ZK_TIMEOUT', `zk: ${op} ${path}: no answer within ${this.requestTimeoutMs} ms (a write may or may not have been applied)`, { path }));
      }, this.requestTimeoutMs);
      let running: Promise<SimReply>;
      try {
        running = run();
      } catch (err) {
        settled = true;
        this.timers.clearTimeout(timer);
        reject(mapZkError(err, op, path));
        return;
      }
      running.then(
        (reply) => {
          if (settled) return;
          settled = true;
          this.timers.clearTimeout(timer);
          resolve(reply);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          this.timers.clearTimeout(timer);
          reject(mapZkError(err, op, path));
        },
      );
    });
  }

  /** One request through the "library": resolves with the reply, rejects with a library-style exception (`code`). */
  private request(request: SimRequest, bytes: number): Promise<SimReply> {
    return new Promise((resolve, reject) => {
      this.send({
        request,
        bytes,
        sentAtMs: 0,
        callback: (err, reply) => (err === 0 ? resolve(reply!) : reject(libException(err, pathOf(request), reply))),
      });
    });
  }

  // ---- the library part: connection, queues, pings, watchers ------------------------------------

  private send(p: Packet): void {
    switch (this.lib) {
      case 'connected':
        this.transmit(p);
        return;
      case 'connecting':
      case 'disconnected':
        this.queue.push(p);
        return;
      case 'closing':
        if (p.request.op === 'closeSession') this.transmit(p);
        else p.callback(CONNECTION_LOSS, undefined);
        return;
      case 'expired':
        p.callback(SESSION_EXPIRED, undefined);
        return;
      default:
        p.callback(CONNECTION_LOSS, undefined);
    }
  }

  private transmit(p: Packet): void {
    const conn = this.conn!;
    p.sentAtMs = this.timers.monotonicNow();
    const xid = p.request.op === 'ping' ? PING_XID : this.xid++;
    if (p.request.op === 'ping') this.pings.push(p.sentAtMs);
    else this.pending.push(p);
    if (p.request.op !== 'ping' && p.request.op !== 'closeSession' && this.connectionLossRate > 0 && this.random.chance(this.connectionLossRate)) {
      this.loseNextRequest(this.random.chance(0.5) ? 'before-apply' : 'after-apply');
    }
    conn.sendToServer({ kind: 'request', xid, request: p.request, bytes: p.bytes });
    this.armPing();
  }

  private openConnection(): void {
    const conn = new SimConnection({
      id: `${this.process}#${this.nextConnId++}`,
      clientTimers: this.timers,
      serverTimers: this.clock.timers('server'),
      server: this.server,
      client: { onMessage: (c, m) => this.onMessage(c, m), onClosed: (c) => this.onConnectionClosed(c) },
      latencyMs: () => this.latency.minMs + Math.round(this.random.float() * (this.latency.maxMs - this.latency.minMs) * 1000) / 1000,
      partitioned: () => this.partitioned,
    });
    this.conn = conn;
    this.connectSentAtMs = this.timers.monotonicNow();
    conn.sendToServer({ kind: 'connect', sessionId: this.sessionBig, timeoutMs: this.requestedTimeoutMs, lastZxid: this.lastZxid });
    // As node-zookeeper-client: the watches are re-armed right after the handshake, queued after
    // whatever was asked while disconnected.
    const data = liveKeys(this.dataWatchers);
    const exist = liveKeys(this.existWatchers);
    const child = liveKeys(this.childWatchers);
    if (data.length + exist.length + child.length > 0) {
      const paths = [...data, ...exist, ...child];
      this.queue.push({
        request: { op: 'setWatches', relativeZxid: this.lastZxid, data, exist, child },
        bytes: 8 + 8 + 12 + paths.reduce((n, p) => n + str(p), 0),
        sentAtMs: 0,
        callback: () => {},
      });
    }
  }

  private onMessage(conn: SimConnection, msg: SimServerMessage): void {
    if (conn !== this.conn) return;
    this.armPing();
    switch (msg.kind) {
      case 'connected':
        if (msg.timeoutMs <= 0) {
          this.lib = 'expired';
          this.trace?.record(this.process, 'library: session expired');
          this.terminate('expired');
          return;
        }
        this.sessionBig = msg.sessionId;
        this.negotiatedTimeoutMs = msg.timeoutMs;
        this.failedAttempts = 0;
        this.lastAnsweredSentAtMs = Math.max(this.lastAnsweredSentAtMs, this.connectSentAtMs);
        this.lib = 'connected';
        this.armPing();
        for (const p of this.queue.splice(0)) this.transmit(p);
        this.onLibraryConnected();
        return;
      case 'reply': {
        const r = msg.reply;
        if (r.zxid > 0n && r.zxid > this.lastZxid) this.lastZxid = r.zxid;
        if (r.xid === PING_XID) {
          const sentAt = this.pings.shift();
          if (sentAt !== undefined) this.lastAnsweredSentAtMs = Math.max(this.lastAnsweredSentAtMs, sentAt);
          return;
        }
        const p = this.pending.shift();
        if (!p) return;
        this.lastAnsweredSentAtMs = Math.max(this.lastAnsweredSentAtMs, p.sentAtMs);
        if (p.request.op === 'closeSession') this.onCloseDone?.();
        p.callback(r.err, r);
        return;
      }
      case 'event':
        this.dispatch(msg.type, msg.path);
        return;
    }
  }

  /** As node-zookeeper-client's WatcherManager: which registered watchers an event fires (and drops). */
  private dispatch(type: ZkWatchEvent['type'], path: string): void {
    const fired: ZkWatcher[] = [];
    const take = (m: Map<string, ZkWatcher[]>) => {
      const ws = m.get(path);
      if (ws) fired.push(...ws);
      m.delete(path);
    };
    if (type === 'dataChanged' || type === 'created') {
      take(this.dataWatchers);
      take(this.existWatchers);
    } else if (type === 'childrenChanged') take(this.childWatchers);
    else {
      take(this.dataWatchers);
      take(this.childWatchers);
    }
    if (fired.length > 0) this.trace?.record(this.process, `watch ${type} ${path} (${fired.length})`);
    for (const w of fired) w({ type, path });
  }

  private onConnectionClosed(conn: SimConnection): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.pings.length = 0;
    const code = this.lib === 'expired' ? SESSION_EXPIRED : CONNECTION_LOSS;
    for (const p of this.pending.splice(0)) p.callback(code, undefined);
    if (this.lib === 'closing' || this.lib === 'closed' || this.lib === 'expired') {
      if (this.lib === 'closing') this.lib = 'closed';
      this.onCloseDone?.();
      return;
    }
    this.lib = 'disconnected';
    this.trace?.record(this.process, 'library: disconnected');
    if (isLive(this.currentState) && !this.closing) this.setState('suspended');
    // As the library: the first attempt at once, then after a random part of the spin delay.
    const spinMs = Math.min(1000, Math.max(100, Math.floor(this.requestedTimeoutMs / 6)));
    const delay = this.failedAttempts++ === 0 ? 0 : Math.round(this.random.float() * spinMs);
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.lib !== 'disconnected') return;
      this.lib = 'connecting';
      this.openConnection();
    }, delay);
  }

  /** The client gives up on its connection (read timeout, a handshake that never came): reconnect on a new one. */
  private abandonConnection(): void {
    const conn = this.conn;
    if (!conn) return;
    conn.abortByClient();
    this.onConnectionClosed(conn);
  }

  private armPing(): void {
    this.timers.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    if (this.lib !== 'connected') return;
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingTimer = undefined;
      if (this.lib === 'connected') this.transmit({ request: { op: 'ping' }, bytes: 8, sentAtMs: 0, callback: () => {} });
    }, Math.floor(this.sessionTimeoutMs / 3));
  }

  // ---- the ZkClient layer: states and lease -----------------------------------------------------

  private onLibraryConnected(): void {
    if (isTerminal(this.currentState)) return;
    if (this.currentState === 'connecting') this.setState('connected');
    else if (this.currentState === 'suspended') this.setState('reconnected');
  }

  private checkLiveness(): void {
    if (isTerminal(this.currentState)) return;
    const now = this.timers.monotonicNow();
    const silentFor = now - this.lastAnsweredSentAtMs;
    if (silentFor > this.leaseMs) {
      this.trace?.record(this.process, `no answer for ${silentFor.toFixed(3)} ms > lease ${this.leaseMs} ms: lost`);
      this.terminate('lost');
      return;
    }
    const handshakeMs = Math.min(2000, this.sessionTimeoutMs / 4);
    if (this.currentState === 'suspended' && this.lib === 'connecting' && now - this.connectSentAtMs > handshakeMs) {
      this.trace?.record(this.process, 'no handshake answer: trying again');
      this.abandonConnection();
      return;
    }
    if (isLive(this.currentState) && silentFor > this.sessionTimeoutMs / 2) {
      this.trace?.record(this.process, `no answer for ${silentFor.toFixed(3)} ms: dropping the connection`);
      this.setState('suspended');
      this.abandonConnection();
    }
  }

  private setState(next: SessionState): void {
    const prev = this.currentState;
    if (prev === next) return;
    this.currentState = next;
    this.trace?.record(this.process, `state ${prev} -> ${next}`);
    this.emit('state', next, prev);
  }

  private terminate(state: 'lost' | 'expired' | 'closed', reason?: ZkError): void {
    if (isTerminal(this.currentState)) return;
    this.timers.clearInterval(this.watchdog);
    this.timers.clearTimeout(this.pingTimer);
    this.timers.clearTimeout(this.reconnectTimer);
    this.watchdog = this.pingTimer = this.reconnectTimer = undefined;
    if (this.lib !== 'expired') this.lib = 'closed';
    const conn = this.conn;
    if (conn) {
      conn.abortByClient();
      this.onConnectionClosed(conn);
    }
    this.setState(state);
    this.abort.abort(
      reason ?? new ZkClosedError(state === 'closed' ? 'ZK_CLOSED' : state === 'lost' ? 'ZK_SESSION_LOST' : 'ZK_SESSION_EXPIRED', `zk: session ${state}`),
    );
  }
}

function checkLatency(latency: { minMs: number; maxMs: number }): { minMs: number; maxMs: number } {
  if (!(latency.minMs >= 0 && latency.maxMs >= latency.minMs && Number.isFinite(latency.maxMs))) {
    throw new RangeError(`sim-zk-client: latency must satisfy 0 <= minMs <= maxMs, got ${JSON.stringify(latency)}`);
  }
  return { ...latency };
}

/** An error shaped as node-zookeeper-client's Exception, so that `mapZkError` names it alike. */
function libException(code: number, path: string | undefined, reply: SimReply | undefined): Error & { code: number; reply?: SimReply } {
  const name = zkCodeName(code);
  const e = new Error(`Exception: ${name}[${code}]${path ? `@${path}` : ''}`) as Error & { code: number; reply?: SimReply };
  e.name = name;
  e.code = code;
  e.reply = reply;
  return e;
}

/** node-zookeeper-client's path check, with its messages. */
function validatePath(path: string): void {
  assert(path && typeof path === 'string', 'Node path must be a non-empty string.');
  assert(path[0] === '/', 'Node path must start with / character.');
  if (path.length === 1) return;
  assert(path[path.length - 1] !== '/', 'Node path must not end with / character.');
  assert(!/\/\//.test(path), 'Node path must not contain empty node name.');
  assert(!/\/\.(\.)?(\/|$)/.test(path), 'Node path must not contain relative path(s).');
}

function pathOf(request: SimRequest): string | undefined {
  return 'path' in request ? request.path : undefined;
}

function toBuffer(data: Buffer | string | undefined): Buffer | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function toStat(s: SimNodeStat): ZkStat {
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    ctime: s.ctime,
    mtime: s.mtime,
    version: s.version,
    aversion: 0, // the simulation models no ACLs (docs/ARCHITECTURE.md, Simulation)
    cversion: s.cversion,
    ephemeralOwner: s.ephemeralOwner === 0n ? null : hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

function hex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

function addWatcher(m: Map<string, ZkWatcher[]>, path: string, w: ZkWatcher): void {
  const list = m.get(path);
  if (list) list.push(w);
  else m.set(path, [w]);
}

function liveKeys(m: Map<string, ZkWatcher[]>): string[] {
  return [...m.keys()];
}

/** A length-prefixed string on the wire. */
function str(s: string): number {
  return 4 + Buffer.byteLength(s);
}

/** Request header + path + data + the open ACL + flags (see multi-size.ts). */
function createBytes(path: string, data: Buffer): number {
  return 8 + str(path) + 4 + data.length + (4 + (4 + 4 + 5 + 4 + 6)) + 4;
}

function readBytes(path: string): number {
  return 8 + str(path) + 1;
}
