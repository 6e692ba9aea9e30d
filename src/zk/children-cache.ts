import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from './zk-client.js';
import { NoNodeError, ZkClosedError } from './zk-errors.js';
import type { NodeSnapshot } from './node-cache.js';
import { childPath } from './zk-paths.js';

export interface ChildrenCacheEvents {
  /** Children were added or removed, or a child's data changed. */
  changed: [];
}

/**
 * Keeps the children of one znode and (optionally) their data, re-arming one-shot watches.
 * `changed` is emitted after each consistent refresh. Bound to one session.
 */
export class ChildrenCache extends EventEmitter<ChildrenCacheEvents> {
  private readonly entries = new Map<string, NodeSnapshot>();
  private names: string[] = [];
  private closed = false;
  private refreshing = false;
  private dirty = false;
  private readonly dirtyChildren = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly zk: ZkClient,
    readonly path: string,
    private readonly options: { withData: boolean; log?: Logger },
  ) {
    super();
  }

  /** Child names (unsorted, as ZooKeeper returned them). */
  get children(): readonly string[] {
    return this.names;
  }

  /** Data of a child (only with `withData`). */
  data(name: string): NodeSnapshot | undefined {
    return this.entries.get(name);
  }

  async start(): Promise<void> {
    this.dirty = true;
    await this.refresh();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.removeAllListeners();
  }

  /** Waits (with an existence watch) for the parent to be created, then refreshes. */
  private awaitParent(): void {
    this.zk
      .exists(this.path, () => void this.refresh())
      .then((stat) => {
        if (stat !== null) void this.refresh();
      })
      .catch(() => {
        if (!this.closed && !this.zk.signal.aborted) this.retryTimer = setTimeout(() => void this.refresh(), 1000);
      });
  }

  private readonly onChildren = (): void => {
    this.dirty = true;
    void this.refresh();
  };

  private childWatcher(name: string): () => void {
    return () => {
      this.dirtyChildren.add(name);
      void this.refresh();
    };
  }

  private async refresh(): Promise<void> {
    if (this.closed || this.refreshing) return;
    this.refreshing = true;
    let changed = false;
    try {
      while ((this.dirty || this.dirtyChildren.size > 0) && !this.closed) {
        if (this.dirty) {
          this.dirty = false;
          const names = await this.zk.getChildren(this.path, this.onChildren);
          const fresh = new Set(names);
          for (const known of this.entries.keys()) if (!fresh.has(known)) this.entries.delete(known);
          if (this.options.withData) for (const n of names) if (!this.entries.has(n)) this.dirtyChildren.add(n);
          changed ||= names.length !== this.names.length || names.some((n) => !this.names.includes(n));
          this.names = names;
        }
        const batch = [...this.dirtyChildren];
        this.dirtyChildren.clear();
        const reads = await Promise.all(
          batch.map((n) => this.zk.getDataIfExists(childPath(this.path, n), this.childWatcher(n)).then((s) => [n, s] as const)),
        );
        for (const [n, snap] of reads) {
          if (snap && this.names.includes(n)) {
            const prev = this.entries.get(n);
            if (!prev || prev.stat.mzxid !== snap.stat.mzxid) changed = true;
            this.entries.set(n, snap);
          } else if (this.entries.delete(n)) changed = true;
        }
      }
      if (changed && !this.closed) this.emit('changed');
    } catch (err) {
      if (this.closed || err instanceof ZkClosedError || this.zk.signal.aborted) return;
      this.dirty = true;
      if (err instanceof NoNodeError) {
        // The parent is gone (e.g. the job was removed): empty, until it is created again.
        const hadChildren = this.names.length > 0;
        this.names = [];
        this.entries.clear();
        if (hadChildren) this.emit('changed');
        this.awaitParent();
        return;
      }
      this.options.log?.warn({ err, path: this.path }, 'children cache refresh failed; retrying');
      this.retryTimer = setTimeout(() => void this.refresh(), 250);
    } finally {
      this.refreshing = false;
    }
  }
}
