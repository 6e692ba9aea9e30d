import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { ZkCredentials } from '../zk/zk-acl.js';
import type { ZkTlsOptions } from '../zk/zk-tls.js';
import { isTerminal } from '../zk/session-state.js';
import { NotAuthorizedError, ZkUnavailableError } from '../zk/zk-errors.js';
import { resolveNamespaceAcl } from '../api/acl-policy.js';
import { Backoff } from '../zk/backoff.js';
import { sleep, systemClock } from '../clock/clock.js';
import { FleetCache, type FleetCacheOptions } from './fleet-cache.js';

export interface ConsoleZooKeeperOptions {
  connect: string;
  paths: ZkPaths;
  credentials?: ZkCredentials;
  tls?: ZkTlsOptions;
  logger: Logger;
  /** @default 10000 */
  sessionTimeoutMs?: number;
  /** How long `start()` waits for the first session. @default 5000 */
  connectTimeoutMs?: number;
  /** Which jobs' items are watched, and how the others are swept (see FleetCache). */
  cache?: FleetCacheOptions;
}

/** The session in use and the fleet its watches keep. */
export interface LiveSession {
  zk: ZkClient;
  cache: FleetCache;
}

export interface ConsoleZooKeeperEvents {
  /** A new session is up and its cache loaded (also after a ZooKeeper restart that ended the old one). */
  up: [session: LiveSession];
  /** The session ended; a new one is being made. */
  down: [];
}

/**
 * The console's one ZooKeeper session and its watches ({@link FleetCache}). When the session ends
 * (a ZooKeeper restart longer than its lease, expiry), it builds a new session and cache with
 * backoff, for as long as the console runs.
 */
export class ConsoleZooKeeper extends EventEmitter<ConsoleZooKeeperEvents> {
  private live: LiveSession | undefined;
  private closed = false;
  private reconnecting: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly abort = new AbortController();

  constructor(private readonly options: ConsoleZooKeeperOptions) {
    super();
    this.log = options.logger.child({ component: 'console-zookeeper' });
  }

  get paths(): ZkPaths {
    return this.options.paths;
  }

  get connectString(): string {
    return this.options.connect;
  }

  /**
   * Opens the first session and loads the fleet.
   * @throws ZkUnavailableError when ZooKeeper cannot be reached within `connectTimeoutMs`;
   *   NotAuthorizedError when it refuses the credentials.
   */
  async start(): Promise<void> {
    const live = await this.open(this.options.connectTimeoutMs ?? 5000);
    this.use(live);
  }

  /** The session in use. @throws ZkUnavailableError while there is none (between two sessions). */
  current(): LiveSession {
    if (!this.live) throw new ZkUnavailableError('ZK_UNAVAILABLE', `no ZooKeeper session at the moment (reconnecting to ${this.options.connect})`);
    return this.live;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    const live = this.live;
    this.live = undefined;
    live?.cache.close();
    await live?.zk.close().catch(() => undefined);
    await this.reconnecting?.catch(() => undefined);
    this.removeAllListeners();
  }

  private async open(connectTimeoutMs: number): Promise<LiveSession> {
    const zk = new ZkClient({
      connect: this.options.connect,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 10_000,
      connectTimeoutMs,
      requestTimeoutMs: 5000,
      credentials: this.options.credentials,
      tls: this.options.tls,
      logger: this.log,
    });
    try {
      await zk.start();
      await resolveNamespaceAcl(zk, this.options.paths.root).catch((err: unknown) => {
        if (err instanceof NotAuthorizedError) throw err;
      });
      const cache = new FleetCache(zk, this.options.paths, this.log, this.options.cache);
      await cache.start();
      return { zk, cache };
    } catch (err) {
      await zk.close().catch(() => undefined);
      if (err instanceof NotAuthorizedError) throw err;
      throw new ZkUnavailableError('ZK_UNAVAILABLE', `cannot reach ZooKeeper at ${this.options.connect}: no session within ${connectTimeoutMs} ms (check --zk or ZKSHARD_ZK)`, { cause: err });
    }
  }

  private use(live: LiveSession): void {
    if (this.closed) {
      live.cache.close();
      void live.zk.close();
      return;
    }
    this.live = live;
    live.zk.on('state', (state) => {
      if (!isTerminal(state) || this.live !== live) return;
      this.log.warn({ state }, 'ZooKeeper session ended; opening a new one');
      this.live = undefined;
      live.cache.close();
      this.emit('down');
      this.reconnecting = this.reconnect();
    });
    this.emit('up', live);
  }

  private async reconnect(): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000 });
    while (!this.closed) {
      try {
        const live = await this.open(this.options.sessionTimeoutMs ?? 10_000);
        this.log.info('ZooKeeper session back; fleet reloaded');
        this.use(live);
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'ZooKeeper not reachable yet');
        await sleep(systemClock, backoff.next(), { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }
}
