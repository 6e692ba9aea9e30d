import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from './zk-session.js';
import type { ZkStat } from './zk-stat.js';
import { ZkClosedError, isConnectionTrouble } from './zk-errors.js';
import { RefreshLoop, type RetryTiming } from './refresh-loop.js';

export interface NodeSnapshot {
  data: Buffer;
  stat: ZkStat;
}

export interface NodeCacheEvents {
  /** The node was created, changed or deleted (`null`). */
  changed: [snapshot: NodeSnapshot | null];
  /** A refresh failed for a reason other than the session ending; it is retried. */
  error: [err: Error];
}

/**
 * Keeps the latest data of one znode, re-arming ZooKeeper's one-shot watches. Follows the node
 * through deletion and re-creation. Bound to one session: close it when the session ends.
 */
export class NodeCache extends EventEmitter<NodeCacheEvents> {
  private snapshot: NodeSnapshot | null = null;
  private readonly loop: RefreshLoop;
  /** The last refresh failed for a reason a reconnect does not cure (e.g. no read permission). */
  private unreadable = false;
  /** Resolvers of `settled()` that an unreadable node also wakes. */
  private settling: Array<() => void> = [];

  /**
   * @param options.unreadableAsAbsent a node whose refresh fails for a reason other than connection
   *   trouble (no read permission, say) reads as absent (`changed` with null) until a refresh
   *   succeeds again, instead of keeping its last value while the refresh is retried
   */
  constructor(
    private readonly zk: ZkSession,
    readonly path: string,
    private readonly log?: Logger,
    retry?: RetryTiming,
    private readonly options: { unreadableAsAbsent?: boolean } = {},
  ) {
    super();
    this.loop = new RefreshLoop(() => this.refresh(), {
      ...retry,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => {
        this.log?.warn({ err, path: this.path, delayMs }, 'node cache refresh failed; retrying');
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        if (this.options.unreadableAsAbsent && !isConnectionTrouble(err)) this.becomeUnreadable();
      },
    });
  }

  private becomeUnreadable(): void {
    this.unreadable = true;
    const waiting = this.settling;
    this.settling = [];
    for (const resolve of waiting) resolve();
    if (this.snapshot === null) return;
    this.snapshot = null;
    this.emit('changed', null);
  }

  get current(): NodeSnapshot | null {
    return this.snapshot;
  }

  /**
   * Whether `current` says what the node holds as of the last watch event: no read is going on or
   * due, or (with `unreadableAsAbsent`) the node reads as absent because it cannot be read.
   */
  get idle(): boolean {
    return this.loop.idle || this.loop.closed || this.unreadable;
  }

  /** Resolves once `idle` (at once if it is), or the cache is closed. */
  settled(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        const k = this.settling.indexOf(done);
        if (k >= 0) this.settling.splice(k, 1);
        resolve();
      };
      this.settling.push(done);
      void this.loop.whenIdle().then(done);
    });
  }

  /** Reads the node once (with a watch); resolves when the first value is known (or the read failed: it is retried). */
  async start(): Promise<void> {
    await this.loop.request();
  }

  close(): void {
    this.loop.close();
    this.removeAllListeners();
  }

  private readonly onWatch = (): void => {
    void this.loop.request();
  };

  private async refresh(): Promise<void> {
    const next = await this.read();
    if (this.loop.closed) return;
    this.unreadable = false;
    const changed = (next?.stat.mzxid ?? -1n) !== (this.snapshot?.stat.mzxid ?? -1n) || (next === null) !== (this.snapshot === null);
    this.snapshot = next;
    if (changed) this.emit('changed', next);
  }

  private async read(): Promise<NodeSnapshot | null> {
    for (;;) {
      const found = await this.zk.getDataIfExists(this.path, this.onWatch);
      if (found) return found;
      // Watch for creation; if it appeared in between, read it again.
      if ((await this.zk.exists(this.path, this.onWatch)) === null) return null;
    }
  }
}
