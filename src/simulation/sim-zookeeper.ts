import type { ZkWatchEvent } from '../zk/zk-watch-event.js';
import type { ZkOp } from '../zk/zk-transaction.js';
import type { SimTimer, SimTimers } from './sim-clock.js';
import type { SimConnection, SimServerEnd } from './sim-connection.js';
import type { SeededRandom } from './seeded-random.js';
import type { SimTrace } from './sim-trace.js';
import type { SimClientMessage, SimMultiResult, SimNodeStat, SimReply, SimRequest } from './sim-protocol.js';

/** ZooKeeper's error codes, as the server sends them. */
export const ZK_CODE = {
  OK: 0,
  RUNTIME_INCONSISTENCY: -2,
  BAD_ARGUMENTS: -8,
  NO_NODE: -101,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
} as const;

export interface SimZooKeeperOptions {
  /** The server's timers (owner `server`). */
  timers: SimTimers;
  /** Orders what ZooKeeper leaves unordered: children lists, the deletion of a session's ephemerals. */
  random: SeededRandom;
  /** @default 2000 */
  tickMs?: number;
  /** Smallest session timeout granted. @default 2 × tickMs */
  minSessionTimeoutMs?: number;
  /** Largest session timeout granted. @default 20 × tickMs */
  maxSessionTimeoutMs?: number;
  /** `jute.maxbuffer`: a larger request makes the server drop the connection. @default 1_048_575 */
  maxBufferBytes?: number;
  trace?: SimTrace;
  /** Told of every applied change and every session end (the fleet checker's view of the server). */
  observer?: SimServerObserver;
}

/** One change of an applied write or multi; `ephemeralOwner` is the deleted node's (0n for persistent nodes). */
export interface SimChange {
  op: 'create' | 'delete' | 'setData';
  path: string;
  ephemeralOwner?: bigint;
}

/** What a checker hears from the server, synchronously, as transactions are applied. */
export interface SimServerObserver {
  /** A write or a whole multi was applied by `session` at `zxid` (failed ones are not told). */
  committed?(changes: readonly SimChange[], zxid: bigint, session: bigint): void;
  /** A session ended at `zxid`: it timed out (`expired`) or was closed. */
  sessionEnded?(session: bigint, zxid: bigint, expired: boolean): void;
}

interface ZNode {
  data: Buffer;
  stat: SimNodeStat;
  children: Set<string>;
  /**
   * Children ever created here: the next sequence suffix. ZooKeeper 3.8 takes the suffix from its
   * request processor's view of the parent, which counts creates but not deletes, while the
   * stat's cversion counts both (the conformance suite pins this down).
   */
  sequence: number;
}

interface Session {
  id: bigint;
  timeoutMs: number;
  /** Server monotonic time at which it expires unless touched (rounded up to a tick, as ZooKeeper does). */
  expiresAtMs: number;
  ephemerals: Set<string>;
  conn: SimConnection | undefined;
}

class KeeperError {
  constructor(readonly code: number) {}
}

/** One change of a write: how to undo it, and the events it triggers once committed. */
interface Applied {
  undo: () => void;
  events: Array<{ type: ZkWatchEvent['type']; path: string }>;
}

/**
 * A simulated ZooKeeper server: the tree (data and full stat), the zxid counter, sessions that
 * expire on the simulated clock, ephemeral and sequential nodes, one-shot watches kept per
 * connection, multi with all-or-nothing semantics, and ZooKeeper's errors. It follows the real
 * server where the protocol code can see it (the conformance suite holds it to one): every write
 * (failed or not) takes a zxid, a session's creation and close take one, sequence suffixes come
 * from the parent's cversion, a change's watch events are sent before its reply, and a request
 * larger than `jute.maxbuffer` drops the connection.
 */
export class SimZooKeeper implements SimServerEnd {
  readonly tickMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly maxBufferBytes: number;
  private readonly observer: SimServerObserver | undefined;
  private readonly timers: SimTimers;
  private readonly random: SeededRandom;
  private readonly trace: SimTrace | undefined;
  private readonly nodes = new Map<string, ZNode>();
  private readonly sessions = new Map<bigint, Session>();
  private readonly connSession = new Map<SimConnection, bigint>();
  private readonly dataWatches = new Map<string, Set<SimConnection>>();
  private readonly childWatches = new Map<string, Set<SimConnection>>();
  private zxid = 0n;
  private nextSession = 0x0100_0000_0000_0000n;
  private tickTimer: SimTimer | undefined;

  constructor(options: SimZooKeeperOptions) {
    this.timers = options.timers;
    this.random = options.random;
    this.trace = options.trace;
    this.observer = options.observer;
    this.tickMs = options.tickMs ?? 2000;
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? 2 * this.tickMs;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 20 * this.tickMs;
    this.maxBufferBytes = options.maxBufferBytes ?? 1_048_575;
    if (!(Number.isInteger(this.tickMs) && this.tickMs > 0)) throw new RangeError(`sim-zookeeper: tickMs must be a positive integer, got ${this.tickMs}`);
    if (!(this.minSessionTimeoutMs > 0 && this.maxSessionTimeoutMs >= this.minSessionTimeoutMs)) {
      throw new RangeError(`sim-zookeeper: session timeouts must satisfy 0 < min <= max, got min ${this.minSessionTimeoutMs}, max ${this.maxSessionTimeoutMs}`);
    }
    if (!(Number.isInteger(this.maxBufferBytes) && this.maxBufferBytes > 0)) throw new RangeError(`sim-zookeeper: maxBufferBytes must be a positive integer, got ${this.maxBufferBytes}`);
    const now = this.timers.now();
    const stat = (): SimNodeStat => ({
      czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0,
    });
    // The tree a fresh ZooKeeper 3.8 serves: '/', '/zookeeper', its 'config' and 'quota'.
    this.nodes.set('/', { data: Buffer.alloc(0), stat: { ...stat(), numChildren: 1 }, children: new Set(['zookeeper']), sequence: 1 });
    this.nodes.set('/zookeeper', { data: Buffer.alloc(0), stat: { ...stat(), numChildren: 2 }, children: new Set(['config', 'quota']), sequence: 2 });
    this.nodes.set('/zookeeper/config', { data: Buffer.alloc(0), stat: { ...stat(), ctime: now, mtime: now }, children: new Set(), sequence: 0 });
    this.nodes.set('/zookeeper/quota', { data: Buffer.alloc(0), stat: stat(), children: new Set(), sequence: 0 });
  }

  /** The zxid of the last transaction. */
  get lastZxid(): bigint {
    return this.zxid;
  }

  /** Ids of the sessions alive now. */
  liveSessions(): bigint[] {
    return [...this.sessions.keys()];
  }

  /** A copy of a node's data and stat (for checkers), or undefined. */
  peek(path: string): { data: Buffer; stat: SimNodeStat; children: string[] } | undefined {
    const n = this.nodes.get(path);
    return n && { data: Buffer.from(n.data), stat: { ...n.stat }, children: [...n.children].sort() };
  }

  /** Fault: the server expires a session now (as when it stops hearing from it). */
  expireSession(id: bigint): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.trace?.record('server', `expire session ${hex(id)}`);
    this.endSession(s);
  }

  // ---- SimServerEnd ----------------------------------------------------------------------------

  receive(conn: SimConnection, msg: SimClientMessage): void {
    if (msg.kind === 'connect') {
      this.handshake(conn, msg);
      return;
    }
    const sessionId = this.connSession.get(conn);
    const s = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (!s || s.conn !== conn) return;
    if (msg.bytes > this.maxBufferBytes) {
      this.trace?.record('server', `s ${hex(s.id)} request of ${msg.bytes} bytes > jute.maxbuffer ${this.maxBufferBytes}: dropping the connection`);
      conn.abort();
      return;
    }
    this.touch(s);
    const req = msg.request;
    if (req.op === 'ping') {
      conn.sendToClient({ kind: 'reply', reply: { xid: msg.xid, zxid: this.zxid, err: 0 } });
      return;
    }
    if (req.op === 'closeSession') {
      this.trace?.record('server', `s ${hex(s.id)} closeSession`);
      this.endSession(s, msg.xid);
      return;
    }
    const reply = this.process(s, conn, msg.xid, req);
    this.trace?.record('server', `s ${hex(s.id)} #${msg.xid} ${describe(req)} -> ${describeReply(reply)}`);
    conn.sendToClient({ kind: 'reply', reply });
  }

  onClosed(conn: SimConnection): void {
    this.dropWatches(conn);
    const id = this.connSession.get(conn);
    this.connSession.delete(conn);
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (s?.conn === conn) s.conn = undefined;
  }

  // ---- sessions ----------------------------------------------------------------------------------

  private handshake(conn: SimConnection, msg: Extract<SimClientMessage, { kind: 'connect' }>): void {
    if (msg.sessionId === 0n) {
      const id = this.nextSession++;
      const timeoutMs = Math.min(this.maxSessionTimeoutMs, Math.max(this.minSessionTimeoutMs, msg.timeoutMs));
      const s: Session = { id, timeoutMs, expiresAtMs: 0, ephemerals: new Set(), conn };
      this.zxid++;
      this.sessions.set(id, s);
      this.connSession.set(conn, id);
      this.touch(s);
      this.trace?.record('server', `createSession ${hex(id)} timeout ${timeoutMs} zxid ${this.zxid}`);
      conn.sendToClient({ kind: 'connected', sessionId: id, timeoutMs });
      this.armTick();
      return;
    }
    const s = this.sessions.get(msg.sessionId);
    if (!s) {
      this.trace?.record('server', `reconnect of expired session ${hex(msg.sessionId)}`);
      conn.sendToClient({ kind: 'connected', sessionId: msg.sessionId, timeoutMs: 0 });
      conn.closeByServer();
      return;
    }
    const old = s.conn;
    s.conn = conn;
    this.connSession.set(conn, s.id);
    if (old && old !== conn) old.abort();
    this.touch(s);
    this.trace?.record('server', `reconnect session ${hex(s.id)}`);
    conn.sendToClient({ kind: 'connected', sessionId: s.id, timeoutMs: s.timeoutMs });
  }

  private touch(s: Session): void {
    // ZooKeeper's ExpiryQueue rounds every expiry up to the next tick.
    const at = this.timers.monotonicNow() + s.timeoutMs;
    s.expiresAtMs = (Math.floor(at / this.tickMs) + 1) * this.tickMs;
  }

  private armTick(): void {
    if (this.tickTimer || this.sessions.size === 0) return;
    const now = this.timers.monotonicNow();
    const next = (Math.floor(now / this.tickMs) + 1) * this.tickMs;
    this.tickTimer = this.timers.setTimeout(() => {
      this.tickTimer = undefined;
      const t = this.timers.monotonicNow();
      for (const s of [...this.sessions.values()]) {
        if (s.expiresAtMs <= t) {
          this.trace?.record('server', `session ${hex(s.id)} timed out`);
          this.endSession(s, undefined, true);
        }
      }
      this.armTick();
    }, next - now);
  }

  /** The close-session transaction: its ephemerals go (with their watch events), its connection closes. */
  private endSession(s: Session, replyXid?: number, expired = false): void {
    this.zxid++;
    const zxid = this.zxid;
    this.sessions.delete(s.id);
    this.observer?.sessionEnded?.(s.id, zxid, expired);
    const events: Applied['events'] = [];
    for (const path of this.random.shuffle([...s.ephemerals])) {
      if (this.nodes.has(path)) events.push(...this.deleteNode(path, zxid).events);
    }
    s.ephemerals.clear();
    this.fire(events);
    const conn = s.conn;
    s.conn = undefined;
    if (conn) {
      if (replyXid !== undefined) conn.sendToClient({ kind: 'reply', reply: { xid: replyXid, zxid, err: 0 } });
      this.connSession.delete(conn);
      this.dropWatches(conn);
      conn.closeByServer();
    }
    if (this.sessions.size === 0 && this.tickTimer) {
      this.timers.clearTimeout(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  // ---- requests ----------------------------------------------------------------------------------

  private process(s: Session, conn: SimConnection, xid: number, req: Exclude<SimRequest, { op: 'ping' | 'closeSession' }>): SimReply {
    switch (req.op) {
      case 'getData': {
        const n = this.nodes.get(req.path);
        if (!n) return { xid, zxid: this.zxid, err: ZK_CODE.NO_NODE };
        if (req.watch) this.addWatch(this.dataWatches, req.path, conn);
        return { xid, zxid: this.zxid, err: 0, data: Buffer.from(n.data), stat: { ...n.stat } };
      }
      case 'exists': {
        const n = this.nodes.get(req.path);
        // An exists watch is set whether or not the node exists: it fires on creation.
        if (req.watch) this.addWatch(this.dataWatches, req.path, conn);
        return { xid, zxid: this.zxid, err: n ? 0 : ZK_CODE.NO_NODE, stat: n ? { ...n.stat } : null };
      }
      case 'getChildren': {
        const n = this.nodes.get(req.path);
        if (!n) return { xid, zxid: this.zxid, err: ZK_CODE.NO_NODE };
        if (req.watch) this.addWatch(this.childWatches, req.path, conn);
        // ZooKeeper keeps children in a hash set: their order means nothing.
        return { xid, zxid: this.zxid, err: 0, children: this.random.shuffle([...n.children]) };
      }
      case 'setWatches':
        this.setWatches(conn, req);
        return { xid, zxid: this.zxid, err: 0 };
      case 'create':
      case 'delete':
      case 'setData':
        return this.write(s, xid, req);
      case 'multi':
        return this.multi(s, xid, req.ops);
    }
  }

  private write(s: Session, xid: number, req: Extract<SimRequest, { op: 'create' | 'delete' | 'setData' }>): SimReply {
    this.zxid++;
    const zxid = this.zxid;
    try {
      let applied: Applied & { path?: string; stat?: SimNodeStat };
      const owner = req.op === 'delete' ? this.nodes.get(req.path)?.stat.ephemeralOwner : undefined;
      if (req.op === 'create') applied = this.create(s, req.path, req.data, req.mode, zxid);
      else if (req.op === 'delete') applied = this.remove(req.path, req.version, zxid);
      else applied = this.setData(req.path, req.data, req.version, zxid);
      this.observer?.committed?.([{ op: req.op, path: applied.path ?? req.path, ephemeralOwner: owner }], zxid, s.id);
      this.fire(applied.events);
      return { xid, zxid, err: 0, path: applied.path, stat: applied.stat };
    } catch (err) {
      if (err instanceof KeeperError) return { xid, zxid, err: err.code };
      throw err;
    }
  }

  /** All or nothing: each op sees the ones before it; on a failure every change is undone and no watch fires. */
  private multi(s: Session, xid: number, ops: readonly ZkOp[]): SimReply {
    this.zxid++;
    const zxid = this.zxid;
    const done: Applied[] = [];
    const results: SimMultiResult[] = [];
    const changes: SimChange[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      try {
        let a: Applied & { path?: string; stat?: SimNodeStat };
        switch (op.type) {
          case 'create':
            a = this.create(s, op.path, op.data ?? Buffer.alloc(0), op.mode, zxid);
            changes.push({ op: 'create', path: a.path ?? op.path });
            break;
          case 'remove': {
            const owner = this.nodes.get(op.path)?.stat.ephemeralOwner;
            a = this.remove(op.path, op.version, zxid);
            changes.push({ op: 'delete', path: op.path, ephemeralOwner: owner });
            break;
          }
          case 'setData':
            a = this.setData(op.path, op.data, op.version, zxid);
            changes.push({ op: 'setData', path: op.path });
            break;
          case 'check':
            a = this.check(op.path, op.version);
            break;
        }
        done.push(a);
        results.push({ type: op.type, path: a.path, stat: a.stat });
      } catch (err) {
        if (!(err instanceof KeeperError)) throw err;
        for (let j = done.length - 1; j >= 0; j--) done[j]!.undo();
        const failed: SimMultiResult[] = ops.map((_, j) => ({
          type: 'error',
          err: j < i ? ZK_CODE.OK : j === i ? err.code : ZK_CODE.RUNTIME_INCONSISTENCY,
        }));
        return { xid, zxid, err: err.code, results: failed };
      }
    }
    this.observer?.committed?.(changes, zxid, s.id);
    for (const a of done) this.fire(a.events);
    return { xid, zxid, err: 0, results };
  }

  private create(s: Session, path: string, data: Buffer, mode: string, zxid: bigint): Applied & { path: string } {
    const parentPath = parentOf(path);
    if (parentPath === undefined) throw new KeeperError(ZK_CODE.NODE_EXISTS);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new KeeperError(ZK_CODE.NO_NODE);
    const sequential = mode === 'ephemeralSequential' || mode === 'persistentSequential';
    const ephemeral = mode === 'ephemeral' || mode === 'ephemeralSequential';
    const created = sequential ? `${path}${String(parent.sequence).padStart(10, '0')}` : path;
    if (this.nodes.has(created)) throw new KeeperError(ZK_CODE.NODE_EXISTS);
    if (parent.stat.ephemeralOwner !== 0n) throw new KeeperError(ZK_CODE.NO_CHILDREN_FOR_EPHEMERALS);
    const now = this.timers.now();
    const before = { ...parent.stat };
    const name = created.slice(parentPath === '/' ? 1 : parentPath.length + 1);
    this.nodes.set(created, {
      data: Buffer.from(data),
      stat: {
        czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now, version: 0, cversion: 0, aversion: 0,
        ephemeralOwner: ephemeral ? s.id : 0n, dataLength: data.length, numChildren: 0,
      },
      children: new Set(),
      sequence: 0,
    });
    parent.children.add(name);
    parent.sequence++;
    parent.stat.cversion++;
    parent.stat.pzxid = zxid;
    parent.stat.numChildren = parent.children.size;
    if (ephemeral) s.ephemerals.add(created);
    return {
      path: created,
      undo: () => {
        this.nodes.delete(created);
        parent.children.delete(name);
        parent.stat = before;
        parent.sequence--;
        s.ephemerals.delete(created);
      },
      events: [
        { type: 'created', path: created },
        { type: 'childrenChanged', path: parentPath },
      ],
    };
  }

  private remove(path: string, version: number, zxid: bigint): Applied {
    if (path === '/') throw new KeeperError(ZK_CODE.BAD_ARGUMENTS);
    const n = this.nodes.get(path);
    if (!n) throw new KeeperError(ZK_CODE.NO_NODE);
    if (version !== -1 && version !== n.stat.version) throw new KeeperError(ZK_CODE.BAD_VERSION);
    if (n.children.size > 0) throw new KeeperError(ZK_CODE.NOT_EMPTY);
    return this.deleteNode(path, zxid);
  }

  private deleteNode(path: string, zxid: bigint): Applied {
    const n = this.nodes.get(path)!;
    const parentPath = parentOf(path)!;
    const parent = this.nodes.get(parentPath)!;
    const name = path.slice(parentPath === '/' ? 1 : parentPath.length + 1);
    const before = { ...parent.stat };
    const owner = n.stat.ephemeralOwner !== 0n ? this.sessions.get(n.stat.ephemeralOwner) : undefined;
    this.nodes.delete(path);
    parent.children.delete(name);
    parent.stat.cversion++;
    parent.stat.pzxid = zxid;
    parent.stat.numChildren = parent.children.size;
    owner?.ephemerals.delete(path);
    return {
      undo: () => {
        this.nodes.set(path, n);
        parent.children.add(name);
        parent.stat = before;
        owner?.ephemerals.add(path);
      },
      events: [
        { type: 'deleted', path },
        { type: 'childrenChanged', path: parentPath },
      ],
    };
  }

  private setData(path: string, data: Buffer, version: number, zxid: bigint): Applied & { stat: SimNodeStat } {
    const n = this.nodes.get(path);
    if (!n) throw new KeeperError(ZK_CODE.NO_NODE);
    if (version !== -1 && version !== n.stat.version) throw new KeeperError(ZK_CODE.BAD_VERSION);
    const before = { data: n.data, stat: { ...n.stat } };
    n.data = Buffer.from(data);
    n.stat.version++;
    n.stat.mzxid = zxid;
    n.stat.mtime = this.timers.now();
    n.stat.dataLength = data.length;
    return {
      stat: { ...n.stat },
      undo: () => {
        n.data = before.data;
        n.stat = before.stat;
      },
      events: [{ type: 'dataChanged', path }],
    };
  }

  private check(path: string, version: number): Applied {
    const n = this.nodes.get(path);
    if (!n) throw new KeeperError(ZK_CODE.NO_NODE);
    if (version !== -1 && version !== n.stat.version) throw new KeeperError(ZK_CODE.BAD_VERSION);
    return { undo: () => {}, events: [] };
  }

  // ---- watches -----------------------------------------------------------------------------------

  private addWatch(table: Map<string, Set<SimConnection>>, path: string, conn: SimConnection): void {
    let set = table.get(path);
    if (!set) table.set(path, (set = new Set()));
    set.add(conn);
  }

  private dropWatches(conn: SimConnection): void {
    for (const table of [this.dataWatches, this.childWatches]) {
      for (const [path, set] of table) {
        set.delete(conn);
        if (set.size === 0) table.delete(path);
      }
    }
  }

  /**
   * Sends the events of a committed change, in order, to every connection watching: a created
   * or changed node's data watches, a parent's child watches, and a deleted node's data and child
   * watches (one event per connection). Watches are one-shot: they go as they fire.
   */
  private fire(events: Applied['events']): void {
    for (const e of events) {
      const to = new Set<SimConnection>();
      if (e.type === 'childrenChanged') this.take(this.childWatches, e.path, to);
      else {
        this.take(this.dataWatches, e.path, to);
        if (e.type === 'deleted') this.take(this.childWatches, e.path, to);
      }
      for (const conn of to) {
        this.trace?.record('server', `event ${e.type} ${e.path} -> ${conn.id}`);
        conn.sendToClient({ kind: 'event', type: e.type, path: e.path });
      }
    }
  }

  private take(table: Map<string, Set<SimConnection>>, path: string, into: Set<SimConnection>): void {
    const set = table.get(path);
    if (!set) return;
    table.delete(path);
    for (const c of set) into.add(c);
  }

  /** A reconnecting client's watches, re-armed against what changed since the last zxid it saw (as ZooKeeper does). */
  private setWatches(conn: SimConnection, req: Extract<SimRequest, { op: 'setWatches' }>): void {
    const send = (type: ZkWatchEvent['type'], path: string) => {
      this.trace?.record('server', `event ${type} ${path} -> ${conn.id} (set-watches)`);
      conn.sendToClient({ kind: 'event', type, path });
    };
    for (const path of req.data) {
      const n = this.nodes.get(path);
      if (!n) send('deleted', path);
      else if (n.stat.mzxid > req.relativeZxid) send('dataChanged', path);
      else this.addWatch(this.dataWatches, path, conn);
    }
    for (const path of req.exist) {
      if (this.nodes.has(path)) send('created', path);
      else this.addWatch(this.dataWatches, path, conn);
    }
    for (const path of req.child) {
      const n = this.nodes.get(path);
      if (!n) send('deleted', path);
      else if (n.stat.pzxid > req.relativeZxid) send('childrenChanged', path);
      else this.addWatch(this.childWatches, path, conn);
    }
  }
}

function parentOf(path: string): string | undefined {
  if (path === '/') return undefined;
  const i = path.lastIndexOf('/');
  return i === 0 ? '/' : path.slice(0, i);
}

function hex(id: bigint): string {
  return id.toString(16).padStart(16, '0');
}

function describe(req: SimRequest): string {
  switch (req.op) {
    case 'multi':
      return `multi[${req.ops.map((o) => `${o.type} ${o.path}${'version' in o && o.version !== -1 ? ` v${o.version}` : ''}`).join(', ')}]`;
    case 'setWatches':
      return `setWatches@${req.relativeZxid} d[${req.data}] e[${req.exist}] c[${req.child}]`;
    case 'create':
      return `create ${req.path} ${req.mode} ${req.data.length}B`;
    case 'delete':
    case 'setData':
      return `${req.op} ${req.path} v${req.version}`;
    case 'getData':
    case 'exists':
    case 'getChildren':
      return `${req.op} ${req.path}${req.watch ? ' +watch' : ''}`;
    default:
      return req.op;
  }
}

function describeReply(r: SimReply): string {
  const head = r.err === 0 ? 'ok' : `err ${r.err}`;
  const extra = r.path ? ` ${r.path}` : r.children ? ` [${r.children.length} children]` : r.stat ? ` v${r.stat.version}` : '';
  return `${head}${extra} zxid ${r.zxid}`;
}
