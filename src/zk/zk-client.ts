import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import zookeeper from 'node-zookeeper-client';
import type { Logger } from 'pino';
import { silentLogger } from '../logging/create-logger.js';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { isLive, isTerminal, waitUntilLive, type SessionState, type SessionStateSource } from './session-state.js';
import { SessionLease, type Xid } from './session-lease.js';
import { nextReplyXid } from './reply-frame.js';
import { encodeAcl, encodeMulti, type MultiResult } from './multi-codec.js';
import { patchMultiReplies, queueMulti, validateMultiPaths } from './library-multi.js';
import { patchReplyDecoders } from './library-replies.js';
import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import { sessionIdHex, toZkStat, type ZkStat } from './zk-stat.js';
import { toWatchEvent, type ZkWatcher } from './zk-watch-event.js';
import { ZkTransaction, ZkTransactionError, type ZkOpResult } from './zk-transaction.js';
import type { ZkSession } from './zk-session.js';
import { aclBytes, DEFAULT_MAX_REQUEST_BYTES, MAX_MAX_REQUEST_BYTES, MIN_MAX_REQUEST_BYTES } from './multi-size.js';
import { fromLibraryAcl, policyAcl, toLibraryAcl, type ZkAcl, type ZkCredentials } from './zk-acl.js';
import { useTls, type ZkTlsOptions } from './zk-tls.js';
import {
  mapZkError,
  mapZkReplyError,
  withoutStack,
  NotAuthorizedError,
  patchUnknownErrorCodes,
  RequestTooLargeError,
  ZkClosedError,
  ZkTimeoutError,
  ZkUnavailableError,
  NodeExistsError,
  type ZkError,
} from './zk-errors.js';
import { DEFAULTS } from '../defaults.js';

export interface ZkClientOptions {
  /** `host:port[,host:port...][/chroot]`. */
  connect: string;
  /** Requested session timeout; the server may clamp it. @default 6000 */
  sessionTimeoutMs?: number;
  /** How long `start()` waits for a first connection before it fails. @default sessionTimeoutMs */
  connectTimeoutMs?: number;
  /** How long one request may wait for its answer. @default sessionTimeoutMs */
  requestTimeoutMs?: number;
  /**
   * The lease, as a fraction of the negotiated session timeout T: the session is declared `lost`
   * once nothing sent in the last `leaseFraction`·T was answered. The rest of T is the margin
   * before the server can expire the session (see ARCHITECTURE.md, "The lease").
   * @default 2/3
   */
  leaseFraction?: number;
  /**
   * Largest request (multi) sent, in bytes: below the `jute.maxbuffer` of every server of the
   * ensemble (1,048,575 by default). Writers of many ops fill multis up to it.
   * @default DEFAULT_MAX_REQUEST_BYTES (1,000,000)
   */
  maxRequestBytes?: number;
  /**
   * Digest credentials, sent on every (re)connect before any request. None: the session is
   * `anonymous` (`world:anyone`).
   */
  credentials?: ZkCredentials;
  /**
   * The ACL every node this client creates carries (`create`, `mkdirp`, creates inside a multi).
   * @default the credentials' identity with every right, or `world:anyone` without credentials
   */
  acl?: readonly ZkAcl[];
  /**
   * Connect over TLS (the servers' `secureClientPort`), checking their certificates against `ca`.
   * @default plain TCP (the digest password then crosses the network in clear)
   */
  tls?: ZkTlsOptions;
  logger?: Logger;
  /** Called after every request with its operation and latency (for metrics). */
  onRequest?: (op: string, durationMs: number) => void;
  /** The clock (its monotonic time) and timers of the lease, watchdog and timeouts. @default systemClock */
  clock?: Clock;
}

export interface ZkClientEvents {
  /** Every state change, with the state before it. */
  state: [state: SessionState, previous: SessionState];
}

type Callback = (error: unknown, ...results: unknown[]) => void;

interface ConnectionManagerInternals {
  onSocketData(buffer: Buffer): void;
  onSocketConnected(): void;
  connect(): void;
  queue(request: unknown, callback?: (error: unknown, response?: { payload: { results: MultiResult[] } | null }) => void): void;
  socket?: Socket;
  /** The chroot of the connect string (`/a/b`), which the library puts before every path; undefined without one. */
  chrootPath?: string;
  /** Bytes read and not processed yet (a partial frame, or frames after the one being processed). */
  pendingBuffer: Buffer | null;
  /** The library's connection state: `LIB_CONNECTING`, `LIB_CONNECTED`, ... */
  state: number;
  getSessionId(): Buffer;
}

/** States of the library's ConnectionManager (lib/ConnectionManager.js `STATES`). */
const LIB_CONNECTING = 1;
const LIB_CONNECTED = 2;

/** The library's wire protocol module, to queue pings of our own. */
interface JuteInternals {
  Request: new (header: unknown, payload: null) => unknown;
  protocol: { RequestHeader: new (xid: number, type: number) => unknown };
  XID_PING: number;
  OP_CODES: { PING: number };
}
const jute = createRequire(import.meta.url)('node-zookeeper-client/lib/jute/index.js') as JuteInternals;

const MODES = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  ephemeralSequential: zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
  persistentSequential: zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
} as const;

export type ZkCreateMode = keyof typeof MODES;

/** ZooKeeper's NO_NODE error code. */
const NO_NODE = -101;

/**
 * A typed promise facade over one node-zookeeper-client session.
 *
 * It adds what that client lacks: a read timeout (a server that stops answering is left for
 * another one after half the session timeout), a local lease (no answer for `leaseFraction` of the
 * session timeout → `lost`, before the server can expire the session and hand our ephemerals to
 * someone else), per-request timeouts, typed errors, and no blind retries of writes.
 *
 * One instance is one session: after `lost`, `expired` or `closed` it is dead; build a new one.
 * `signal` aborts at that moment, for everything bound to the session.
 */
export class ZkClient extends EventEmitter<ZkClientEvents> implements ZkSession {
  readonly connectString: string;
  private readonly requestedTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly leaseFraction: number;
  /** Largest request sent, in bytes (see `ZkClientOptions.maxRequestBytes`). */
  readonly maxRequestBytes: number;
  /** Bytes of the chroot the library puts before every path. */
  private readonly chrootBytes: number;
  private readonly log: Logger;
  private readonly onRequest: ((op: string, durationMs: number) => void) | undefined;
  private readonly credentials: ZkCredentials | undefined;
  private readonly tls: ZkTlsOptions | undefined;
  private lastSocketError: Error | undefined;
  private createAcl: readonly ZkAcl[];
  private createAclLib: zookeeper.ACL[];
  /** `createAcl` as every create of a multi carries it on the wire. */
  private createAclWire: Buffer;
  private createRefusal: string | undefined;
  private client: zookeeper.Client | undefined;
  private cm: ConnectionManagerInternals | undefined;
  private currentState: SessionState = 'latent';
  private readonly timers: Clock;
  private readonly lease = new SessionLease();
  /** One library watcher per watcher (see `libWatcher`). */
  private readonly libWatchers = new WeakMap<ZkWatcher, (event: zookeeper.Event) => void>();
  /** When bytes last arrived from a server (monotonic ms): the read timeout, not the lease. */
  private lastReadAt = 0;
  /** When the current socket connected (monotonic), until the server answers anything on it. */
  private handshakeSince: number | undefined;
  private watchdog: TimerHandle | undefined;
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private sessionHex = '';

  constructor(options: ZkClientOptions) {
    super();
    this.connectString = options.connect;
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? DEFAULTS.zookeeper.sessionTimeoutMs;
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
    const slash = options.connect.indexOf('/');
    const chroot = slash < 0 ? '' : options.connect.slice(slash).replace(/\/+$/, '');
    this.chrootBytes = Buffer.byteLength(chroot);
    this.log = (options.logger ?? silentLogger()).child({ component: 'zk-client' });
    this.onRequest = options.onRequest;
    this.timers = options.clock ?? systemClock;
    this.credentials = options.credentials;
    this.tls = options.tls;
    this.createAcl = options.acl ?? policyAcl(options.credentials);
    if (this.createAcl.length === 0) throw new RangeError('zk: `acl` must hold at least one entry');
    this.createAclLib = toLibraryAcl(this.createAcl);
    this.createAclWire = encodeAcl(this.createAcl);
  }

  /** The user this session authenticates as (`anonymous` without credentials). */
  get user(): string {
    return this.credentials?.user ?? 'anonymous';
  }

  /** Whether the client sends credentials. */
  get authenticated(): boolean {
    return this.credentials !== undefined;
  }

  /** The ACL every node this client creates carries. */
  get acl(): readonly ZkAcl[] {
    return this.createAcl;
  }

  /**
   * Changes the ACL of the nodes created from now on (e.g. once the namespace was secured while
   * this client ran). @throws RangeError for an empty list
   */
  useAcl(acl: readonly ZkAcl[]): void {
    if (acl.length === 0) throw new RangeError('zk: `acl` must hold at least one entry');
    this.createAcl = [...acl];
    this.createAclLib = toLibraryAcl(this.createAcl);
    this.createAclWire = encodeAcl(this.createAcl);
    this.createRefusal = undefined;
  }

  /**
   * Refuses every create from now on (`NotAuthorizedError` with `reason`, nothing sent): for a
   * client that cannot know the ACL policy the fleet's nodes need (one without ADMIN on the root).
   */
  refuseCreates(reason: string): void {
    this.createRefusal = reason;
  }

  private checkCreate(path: string): void {
    if (this.createRefusal !== undefined) {
      throw new NotAuthorizedError(this.user, 'create', path, { message: `not authorized: ${this.user} may not create (${path}): ${this.createRefusal}` });
    }
  }

  get state(): SessionState {
    return this.currentState;
  }

  /** Aborted when the session ends (lost, expired or closed); reason is a `ZkError`. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The session id as 16 hex digits ('' before the first connection). */
  get sessionId(): string {
    return this.sessionHex;
  }

  /** The timeout the server granted (the requested one until connected). */
  get sessionTimeoutMs(): number {
    const negotiated = (this.client as unknown as { getSessionTimeout?: () => number } | undefined)?.getSessionTimeout?.();
    return typeof negotiated === 'number' && negotiated > 0 ? negotiated : this.requestedTimeoutMs;
  }

  /** How long the lease lasts after the send time of the last answered request or ping. */
  get leaseMs(): number {
    return Math.floor(this.sessionTimeoutMs * this.leaseFraction);
  }

  /** The session timeout minus the lease: how long the server waits, at least, after the lease ends. */
  get leaseMarginMs(): number {
    return this.sessionTimeoutMs - this.leaseMs;
  }

  /**
   * Milliseconds left of the lease right now (runs the liveness check first, like `holdsLease()`):
   * 0 when it is over or the session is not established. Work bound to the session must be gone
   * by then (a script is SIGKILLed by that deadline).
   */
  leaseRemainingMs(): number {
    if (!this.holdsLease()) return 0;
    return this.lease.remainingMs(this.timers.monotonic(), this.leaseMs);
  }

  /**
   * Resolves true once the session is usable again (connected or reconnected), false if it ends
   * or `timeoutMs` passes first. For recovering from a request whose outcome is unknown.
   */
  waitLive(timeoutMs: number): Promise<boolean> {
    return waitUntilLive(this as SessionStateSource, (fn, ms) => {
      const timer = this.timers.setTimeout(fn, ms);
      return () => this.timers.clearTimeout(timer);
    }, timeoutMs);
  }

  /** Connects; resolves once a session is established, rejects with `ZkUnavailableError` after `connectTimeoutMs`. */
  async start(): Promise<void> {
    if (this.currentState !== 'latent') throw new IllegalStateError(`zk: start() called in state ${this.currentState}`);
    patchUnknownErrorCodes();
    patchMultiReplies();
    patchReplyDecoders();
    this.setState('connecting');
    const client = zookeeper.createClient(this.connectString, {
      sessionTimeout: this.requestedTimeoutMs,
      spinDelay: Math.min(1000, Math.max(100, Math.floor(this.requestedTimeoutMs / 6))),
      retries: 0,
    });
    this.client = client;
    const cm = (client as unknown as { connectionManager: ConnectionManagerInternals }).connectionManager;
    this.cm = cm;
    if (this.tls) {
      useTls(cm, this.tls, (err) => {
        this.lastSocketError = err;
        this.log.warn({ err }, 'TLS connection to ZooKeeper failed');
      });
    }
    // The lease (session-lease.ts) needs the send time of every request and ping, and which reply
    // answers what. The library binds its socket handlers when it opens each socket, so wrapping
    // the methods on the instance sees every frame that arrives, before the library handles it
    // (it calls itself back once per frame), and every packet written on each new socket.
    const onData = cm.onSocketData;
    cm.onSocketData = (buffer: Buffer) => {
      this.lastReadAt = this.timers.monotonic();
      const xid = nextReplyXid(cm.pendingBuffer, buffer, cm.state === LIB_CONNECTING);
      if (xid !== undefined) {
        this.lease.received(xid);
        this.handshakeSince = undefined;
      }
      // After each reply the library calls itself again with an empty buffer for the rest of the
      // read, which it then copies whole (concat with the empty one): quadratic in the replies of
      // one read, seconds of copying at a start-up with thousands of them. Hand it the rest itself.
      if (buffer.length === 0 && cm.pendingBuffer) {
        const rest = cm.pendingBuffer;
        cm.pendingBuffer = null;
        onData.call(cm, rest);
      } else onData.call(cm, buffer);
    };
    // The library never times out a server that accepts the TCP connection but does not answer
    // the handshake (ZooKeeper does that while starting up): note when each socket connects.
    const onConnected = cm.onSocketConnected;
    cm.onSocketConnected = () => {
      this.handshakeSince = this.timers.monotonic();
      this.lease.connectionOpened();
      if (cm.socket) this.trackWrites(cm.socket);
      onConnected.call(cm);
    };
    client.on('state', (s) => this.onLibraryState(s));
    // Queued before the socket opens, the library sends it right after the handshake, ahead of any
    // request, and again on every reconnect.
    if (this.credentials) client.addAuthInfo(this.credentials.scheme, this.credentials.authBytes());
    let authFailed = false;
    client.once('authenticationFailed', () => {
      authFailed = true;
    });

    const connected = new Promise<void>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        off();
        const why = this.lastSocketError ? ` (last error: ${this.lastSocketError.message})` : '';
        reject(new ZkUnavailableError('ZK_UNAVAILABLE', `zk: could not connect to ${this.connectString}${this.tls ? ' over TLS' : ''} within ${this.connectTimeoutMs} ms${why}`, { cause: this.lastSocketError }));
      }, this.connectTimeoutMs);
      const onState = (state: SessionState) => {
        if (isLive(state)) {
          off();
          resolve();
        } else if (isTerminal(state)) {
          off();
          reject(
            authFailed
              ? new NotAuthorizedError(this.user, 'authenticate', undefined, { zkCode: -115, message: `not authorized: ZooKeeper at ${this.connectString} refused the credentials of ${this.user}` })
              : new ZkUnavailableError('ZK_UNAVAILABLE', `zk: session to ${this.connectString} ended while connecting (${state})`),
          );
        }
      };
      const off = () => {
        this.timers.clearTimeout(timer);
        this.off('state', onState);
      };
      this.on('state', onState);
    });
    client.connect();
    try {
      await connected;
    } catch (err) {
      this.terminate('closed', err as ZkError);
      throw err;
    }
    this.watchdog = this.timers.setInterval(() => this.checkLiveness(), this.watchdogTickMs);
    this.watchdog.unref?.();
  }

  /** Ends the session (its ephemeral nodes go at once) and releases everything. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (isTerminal(this.currentState) || !this.client) {
      this.terminate('closed');
      return;
    }
    const wasLive = isLive(this.currentState);
    if (wasLive) {
      // Ask the server to close the session, and give it a moment to answer.
      await new Promise<void>((resolve) => {
        const timer = this.timers.setTimeout(resolve, Math.min(2000, this.sessionTimeoutMs / 3));
        timer.unref?.();
        this.client!.once('state', () => {
          this.timers.clearTimeout(timer);
          resolve();
        });
        this.client!.close();
      });
    }
    this.terminate('closed');
  }

  // ---- operations ----------------------------------------------------------------------------

  /** Creates a node; returns the created path (with the sequence suffix for sequential modes). Never retried. */
  create(path: string, data?: Buffer | string, mode: ZkCreateMode = 'persistent'): Promise<string> {
    try {
      this.checkCreate(path);
    } catch (err) {
      return Promise.reject(err);
    }
    const buf = toBuffer(data);
    const acl = this.createAclLib;
    return this.call<[string]>('create', path, (cb) =>
      buf ? this.lib().create(path, buf, acl, MODES[mode], cb) : this.lib().create(path, acl, MODES[mode], cb),
    ).then(([p]) => p);
  }

  /**
   * Creates every missing persistent node along `path`, each with this client's ACL. An existing
   * node is never created again: ZooKeeper checks CREATE on the parent before it reports that the
   * node exists, so a create over an existing, protected ancestor (a chroot) would be refused.
   */
  async mkdirp(path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '');
    // The deepest node usually exists already: one round trip in the common case.
    if (parts.length > 0 && (await this.exists(path)) !== null) return;
    let at = '';
    for (const part of parts) {
      at += `/${part}`;
      if ((await this.exists(at)) !== null) continue;
      await this.createIfAbsent(at);
    }
  }

  /** The ACL of a node and its stat (digest hashes read as `x` without ADMIN on the node). */
  async getAcl(path: string): Promise<{ acl: ZkAcl[]; stat: ZkStat }> {
    const [acl, stat] = await this.call<[zookeeper.ACL[], zookeeper.Stat]>('getAcl', path, (cb) => this.lib().getACL(path, cb));
    return { acl: fromLibraryAcl(acl), stat: toZkStat(stat) };
  }

  /** Sets the ACL of a node; `aclVersion` -1 means any (else the stat's `aversion`). */
  async setAcl(path: string, acl: readonly ZkAcl[], aclVersion = -1): Promise<ZkStat> {
    const [stat] = await this.call<[zookeeper.Stat]>('setAcl', path, (cb) => this.lib().setACL(path, toLibraryAcl(acl), aclVersion, cb));
    return toZkStat(stat);
  }

  async getData(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.readData(path, watcher);
  }

  /** Like `getData`, but resolves `null` when the node does not exist. */
  getDataIfExists(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat } | null> {
    return this.readData(path, watcher, { value: null });
  }

  private async readData<A = never>(path: string, watcher: ZkWatcher | undefined, absent?: { value: A }): Promise<{ data: Buffer; stat: ZkStat } | A> {
    const found = await this.call<[Buffer | undefined, zookeeper.Stat], A>(
      'getData',
      path,
      (cb) => (watcher ? this.lib().getData(path, this.libWatcher(watcher), cb) : this.lib().getData(path, cb)),
      absent,
    );
    if (absent && found === absent.value) return absent.value;
    const [data, stat] = found as [Buffer | undefined, zookeeper.Stat];
    // The data is a copy out of the reply packet (library-replies.ts): handed on as it is.
    return { data: data ?? Buffer.alloc(0), stat: toZkStat(stat) };
  }

  /** The node's stat, or null; a watcher set here also fires on creation. */
  async exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | null> {
    const [stat] = await this.call<[zookeeper.Stat | null]>('exists', path, (cb) =>
      watcher ? this.lib().exists(path, this.libWatcher(watcher), cb) : this.lib().exists(path, cb),
    );
    return stat ? toZkStat(stat) : null;
  }

  async getChildren(path: string, watcher?: ZkWatcher): Promise<string[]> {
    const [children] = await this.call<[string[]]>('getChildren', path, (cb) =>
      watcher ? this.lib().getChildren(path, this.libWatcher(watcher), cb) : this.lib().getChildren(path, cb),
    );
    return children;
  }

  async setData(path: string, data: Buffer | string, version = -1): Promise<ZkStat> {
    const [stat] = await this.call<[zookeeper.Stat]>('setData', path, (cb) =>
      this.lib().setData(path, toBuffer(data)!, version, cb),
    );
    return toZkStat(stat);
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.call('remove', path, (cb) => this.lib().remove(path, version, cb));
  }

  /** Creates a persistent node unless it exists; true when this call created it. */
  async createIfAbsent(path: string, data?: Buffer | string): Promise<boolean> {
    try {
      await this.create(path, data, 'persistent');
      return true;
    } catch (err) {
      if (err instanceof NodeExistsError) return false;
      throw err;
    }
  }

  /** A new multi, sized against this client's `maxRequestBytes` (`tx.bytes`, `tx.overLimit`). */
  transaction(): ZkTransaction {
    return new ZkTransaction(this.maxRequestBytes, this.chrootBytes, aclBytes(this.createAcl));
  }

  /**
   * Commits a multi atomically. Rejects with `ZkTransactionError` naming the rejected operation,
   * or `RequestTooLargeError` (nothing sent) when it is larger than `maxRequestBytes`.
   */
  async commit(tx: ZkTransaction): Promise<ZkOpResult[]> {
    if (tx.size === 0) return [];
    const create = tx.ops.find((op) => op.type === 'create');
    if (create) this.checkCreate(create.path);
    // Sized with the ACL the creates carry now (it may have changed since the multi was begun).
    const bytes = tx.bytesWithCreateAcl(aclBytes(this.createAcl));
    if (bytes > this.maxRequestBytes) {
      throw new RequestTooLargeError('ZK_REQUEST_TOO_LARGE', `zk: multi of ${tx.size} ops is ${bytes} bytes, more than maxRequestBytes (${this.maxRequestBytes}); not sent`, { path: tx.ops[0]!.path });
    }
    validateMultiPaths(tx.ops.map((op) => op.path));
    const cm = this.cm;
    const frame = encodeMulti(tx.ops, this.createAclWire, cm?.chrootPath ?? '');
    let results: MultiResult[] | undefined;
    try {
      [results] = await this.call<[MultiResult[]]>('multi', tx.ops[0]!.path, (cb) => {
        if (!cm) throw new ZkClosedError('ZK_CLOSED', 'zk: multi: not started', { path: tx.ops[0]!.path });
        queueMulti(cm, frame, (error, res) => {
          results = res;
          cb(error, res);
        });
      });
    } catch (err) {
      const index = results?.findIndex((r) => r.err !== undefined && r.err !== 0 && r.err !== -2) ?? -1;
      throw new ZkTransactionError(err as ZkError, index, index >= 0 ? tx.ops[index] : undefined);
    }
    return (results ?? []).map((r, i) => ({
      type: tx.ops[i]!.type,
      path: r.path,
      stat: r.stat,
    }));
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * The library's watcher for `watcher`: one function per watcher, for as long as it lives. The
   * library keeps one registration per function and path (as ZooKeeper keeps one watch per path and
   * session), so a watcher set again before its watch fired is not added twice; a new wrapper at
   * every read made them pile up, each called when the watch fired.
   */
  private libWatcher(watcher: ZkWatcher): (event: zookeeper.Event) => void {
    let wrapped = this.libWatchers.get(watcher);
    if (!wrapped) {
      wrapped = (e) => watcher(toWatchEvent(e));
      this.libWatchers.set(watcher, wrapped);
    }
    return wrapped;
  }

  private lib(): zookeeper.Client {
    return this.client!;
  }

  /**
   * Runs one library request. With `absent`, a NO_NODE answer resolves to it instead of failing
   * (no typed error is made for what the caller expects: thousands at a start-up).
   */
  private call<T extends unknown[], A = never>(op: string, path: string, run: (cb: Callback) => void, absent?: { value: A }): Promise<T | A> {
    if (!this.client || isTerminal(this.currentState) || this.currentState === 'latent') {
      return Promise.reject(new ZkClosedError('ZK_CLOSED', `zk: ${op} ${path}: client is ${this.currentState}`, { path }));
    }
    const started = performance.now();
    return new Promise<T | A>((resolve, reject) => {
      let settled = false;
      const timer = this.timers.setTimeout(() => {
        settled = true;
        reject(withoutStack(() => new ZkTimeoutError('ZK_TIMEOUT', `zk: ${op} ${path}: no answer within ${this.requestTimeoutMs} ms (a write may or may not have been applied)`, { path })));
      }, this.requestTimeoutMs);
      try {
        run((error, ...results) => {
          if (settled) return;
          settled = true;
          this.timers.clearTimeout(timer);
          this.onRequest?.(op, performance.now() - started);
          if (error && absent && (error as { code?: unknown }).code === NO_NODE) resolve(absent.value);
          else if (error) reject(mapZkReplyError(error, op, path, this.user)); // made in the library's socket handler: no stack of ours
          else resolve(results as T);
        });
      } catch (err) {
        settled = true;
        this.timers.clearTimeout(timer);
        reject(mapZkError(err, op, path, this.user));
      }
    });
  }

  private onLibraryState(s: zookeeper.State): void {
    if (isTerminal(this.currentState)) return;
    if (s === zookeeper.State.SYNC_CONNECTED) {
      this.sessionHex = sessionIdHex(this.cm!.getSessionId());
      if (this.currentState === 'connecting') this.setState('connected');
      else if (this.currentState === 'suspended') this.setState('reconnected');
    } else if (s === zookeeper.State.DISCONNECTED) {
      if (isLive(this.currentState) && !this.closing) this.setState('suspended');
    } else if (s === zookeeper.State.EXPIRED) {
      this.terminate('expired');
    } else if (s === zookeeper.State.AUTH_FAILED) {
      this.log.error({ state: String(s), user: this.user }, 'authentication failed');
      this.terminate('closed');
    }
  }

  /**
   * Whether the lease holds at this moment: runs the liveness check now, since a stalled event
   * loop (a long GC, a starved process) delays the watchdog past the lease, and what comes due
   * with it (a fire timer, a reply read from the socket) would otherwise run first. True while the
   * session is established (also `suspended`) and something sent less than `leaseMs` ago was
   * answered; false otherwise, and the session is declared lost by this very call when the lease
   * ran out. Ask it right before starting work that needs the lease.
   */
  holdsLease(): boolean {
    this.checkLiveness();
    return this.established();
  }

  /** Connected, suspended or reconnected: a session exists and the lease is being checked. */
  private established(): boolean {
    return isLive(this.currentState) || this.currentState === 'suspended';
  }

  /** How often the watchdog checks the lease. */
  private get watchdogTickMs(): number {
    return Math.max(25, Math.min(250, Math.floor(this.sessionTimeoutMs / 12)));
  }

  /** Our own pings: whenever nothing that renews the lease was sent for this long. */
  private get pingIntervalMs(): number {
    return Math.max(this.watchdogTickMs, Math.floor(this.sessionTimeoutMs / 12));
  }

  /**
   * Counts what is written to a new socket for the lease (each packet is one request or ping), and
   * sends the packets of one turn of the event loop together: the library writes every packet on
   * its own, a system call each, which at start-up (thousands of reads and watches) cost seconds of
   * a blocked event loop. The socket is corked at the first write of a turn and uncorked on the next
   * tick; a packet's send time is noted when it is written, a little before it leaves, which only
   * makes the lease end earlier.
   */
  private trackWrites(socket: Socket): void {
    const write = socket.write;
    let first = true; // the handshake, which has no xid
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk)) {
        const xid: Xid | undefined = first ? 'connect' : chunk.length >= 8 ? chunk.readInt32BE(4) : undefined;
        if (xid !== undefined) this.lease.sent(xid, this.timers.monotonic());
        first = false;
      }
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return (write as (...args: unknown[]) => boolean).call(socket, chunk, ...rest);
    }) as Socket['write'];
  }

  /** Our own read timeout and lease, since the library has neither (see `SessionLease`). */
  private checkLiveness(): void {
    if (!this.established()) return;
    const now = this.timers.monotonic();
    const check = this.lease.check(now, this.leaseMs, this.leaseMarginMs);
    if (check.lateByMs !== undefined) {
      this.log.warn({ stalledMs: Math.round(check.lateByMs), marginMs: this.leaseMarginMs, held: check.held }, 'the event loop stalled longer than the lease margin');
    }
    if (!check.held) {
      this.log.warn({ silentForMs: Math.round(check.silentForMs), leaseMs: this.leaseMs }, 'nothing sent within the lease time was answered by ZooKeeper: session lost');
      this.terminate('lost');
      return;
    }
    const handshakeMs = Math.min(2000, this.sessionTimeoutMs / 4);
    if (this.currentState === 'suspended' && this.handshakeSince !== undefined && now - this.handshakeSince > handshakeMs) {
      this.log.warn({ handshakeMs }, 'server accepted the connection but did not answer the handshake: trying again');
      this.handshakeSince = undefined;
      this.cm?.socket?.destroy();
      return;
    }
    // A read timeout: nothing at all arrived for T/2 while something waits for an answer (a
    // server that streams the answers to a burst of requests is answering, even while the lease
    // still rests on the burst's send time). The client pings every T/12, so in a healthy session
    // bytes arrive at least that often and something always waits.
    const quietForMs = now - this.lastReadAt;
    // Not judged on a tick that comes late: this process stalled, and the answers may be waiting
    // in the socket unread (the next tick, after the poll phase, sees them).
    if (isLive(this.currentState) && check.lateByMs === undefined && this.lease.unanswered > 0 && quietForMs > this.sessionTimeoutMs / 2) {
      this.log.warn({ quietForMs: Math.round(quietForMs), silentForMs: Math.round(check.silentForMs) }, 'server stopped answering: dropping the connection to try another');
      this.setState('suspended');
      this.cm?.socket?.destroy();
      return;
    }
    // The library pings only after T/3 without any traffic (notifications count): ping often
    // enough that the lease never rests on an old answer (ARCHITECTURE.md, "The lease").
    if (isLive(this.currentState) && this.cm?.state === LIB_CONNECTED && now - this.lease.lastSentAt >= this.pingIntervalMs) {
      this.cm.queue(new jute.Request(new jute.protocol.RequestHeader(jute.XID_PING, jute.OP_CODES.PING), null));
    }
  }

  private setState(next: SessionState): void {
    const prev = this.currentState;
    if (prev === next) return;
    this.currentState = next;
    const level = next === 'lost' || next === 'expired' || next === 'suspended' ? 'warn' : 'info';
    this.log[level]({ state: next, previous: prev, session: this.sessionHex || undefined }, 'session state');
    this.emit('state', next, prev);
  }

  /** Moves to a terminal state and makes sure the library can never reconnect this session. */
  private terminate(state: 'lost' | 'expired' | 'closed', reason?: ZkError): void {
    if (isTerminal(this.currentState)) return;
    if (this.watchdog) this.timers.clearInterval(this.watchdog);
    const cm = this.cm;
    if (cm) {
      cm.connect = () => {};
      cm.onSocketConnected = function (this: ConnectionManagerInternals) {
        this.socket?.destroy();
      };
      try {
        if (state !== 'closed' || !this.closing) this.client?.close();
      } catch {
        /* already closing */
      }
      cm.socket?.destroy();
    }
    this.setState(state);
    this.abort.abort(
      reason ?? new ZkClosedError(state === 'closed' ? 'ZK_CLOSED' : state === 'lost' ? 'ZK_SESSION_LOST' : 'ZK_SESSION_EXPIRED', `zk: session ${state}`),
    );
  }
}

function toBuffer(data: Buffer | string | undefined): Buffer | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
