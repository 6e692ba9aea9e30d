import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from './zk-client.js';
import type { ZkStat } from './zk-stat.js';
import { ZkClosedError } from './zk-errors.js';

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
  private closed = false;
  private refreshing = false;
  private dirty = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly zk: ZkClient,
    readonly path: string,
    private readonly log?: Logger,
  ) {
    super();
  }

  get current(): NodeSnapshot | null {
    return this.snapshot;
  }

  /** Reads the node once (with a watch); resolves when the first value is known. */
  async start(): Promise<void> {
    await this.refresh();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.removeAllListeners();
  }

  private readonly onWatch = (): void => {
    void this.refresh();
  };

  private async refresh(): Promise<void> {
    if (this.closed) return;
    if (this.refreshing) {
      this.dirty = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.dirty = false;
        const next = await this.read();
        if (this.closed) return;
        const changed = (next?.stat.mzxid ?? -1n) !== (this.snapshot?.stat.mzxid ?? -1n) || (next === null) !== (this.snapshot === null);
        this.snapshot = next;
        if (changed) this.emit('changed', next);
      } while (this.dirty && !this.closed);
    } catch (err) {
      if (this.closed || err instanceof ZkClosedError || this.zk.signal.aborted) return;
      this.log?.warn({ err, path: this.path }, 'node cache refresh failed; retrying');
      if (this.listenerCount('error') > 0) this.emit('error', err as Error);
      this.retryTimer = setTimeout(() => void this.refresh(), 250);
    } finally {
      this.refreshing = false;
    }
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
