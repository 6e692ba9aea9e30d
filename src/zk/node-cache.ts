import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from './zk-session.js';
import type { ZkStat } from './zk-stat.js';
import { ZkClosedError } from './zk-errors.js';
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

  constructor(
    private readonly zk: ZkSession,
    readonly path: string,
    private readonly log?: Logger,
    retry?: RetryTiming,
  ) {
    super();
    this.loop = new RefreshLoop(() => this.refresh(), {
      ...retry,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => {
        this.log?.warn({ err, path: this.path, delayMs }, 'node cache refresh failed; retrying');
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      },
    });
  }

  get current(): NodeSnapshot | null {
    return this.snapshot;
  }

  /** Whether no read is going on or due (a watch that fired starts one at once). */
  get idle(): boolean {
    return this.loop.idle || this.loop.closed;
  }

  /** Resolves once no read is going on or due (at once if none is), or the cache is closed. */
  settled(): Promise<void> {
    return this.loop.whenIdle();
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
