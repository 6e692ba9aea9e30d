import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkSession } from './zk-session.js';
import { NoNodeError, ZkClosedError } from './zk-errors.js';
import type { NodeSnapshot } from './node-cache.js';
import { childPath } from './zk-paths.js';
import { RefreshLoop, type RetryTiming } from './refresh-loop.js';

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
  /** `names` as a set: a leader follows 10,000 jobs, and comparing lists by `includes` took a second. */
  private nameSet = new Set<string>();
  /** The child list must be read again. */
  private dirty = false;
  /** A read of the list (and of every child's data) has succeeded once. */
  private readOnce = false;
  /** Children whose data must be read again. */
  private readonly dirtyChildren = new Set<string>();
  private readonly childWatchers = new Map<string, () => void>();
  private paused = false;
  private readonly loop: RefreshLoop;

  constructor(
    private readonly zk: ZkSession,
    readonly path: string,
    private readonly options: { withData: boolean; log?: Logger; retry?: RetryTiming },
  ) {
    super();
    this.loop = new RefreshLoop(() => this.refresh(), {
      ...options.retry,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => this.options.log?.warn({ err, path: this.path, delayMs }, 'children cache refresh failed; retrying'),
    });
  }

  /** Child names (unsorted, as ZooKeeper returned them). */
  get children(): readonly string[] {
    return this.names;
  }

  /** Data of a child (only with `withData`). */
  data(name: string): NodeSnapshot | undefined {
    return this.entries.get(name);
  }

  /**
   * Whether the cache has read its node once: `start()` resolves after its first attempt even when
   * that failed (a connection loss; it is tried again), and until then the cache is empty, which
   * is not the same as a node with no children.
   */
  get hasRead(): boolean {
    return this.readOnce;
  }

  async start(): Promise<void> {
    this.dirty = true;
    await this.loop.request();
  }

  /**
   * Stops reading: a watch that fires only marks what to read, until `resume()` reads everything
   * again. For a cache that comes and goes (the console's watch of an open job): a watch stays with
   * the client until it fires, so pausing a cache and resuming it — the same watcher functions —
   * keeps one registration per node, where closing it and making a new one would add one more to
   * every node that has not changed since.
   */
  pause(): void {
    this.paused = true;
  }

  /** Reads the list and every child again, and goes on following them. */
  resume(): Promise<void> {
    this.paused = false;
    this.dirty = true;
    for (const n of this.names) this.dirtyChildren.add(n);
    return this.loop.request();
  }

  close(): void {
    this.loop.close();
    this.removeAllListeners();
  }

  private readonly onChildren = (): void => {
    this.dirty = true;
    void this.loop.request();
  };

  /** One watcher per child, so that reading a child again does not set a second one (see `ZkClient`). */
  private childWatcher(name: string): () => void {
    let watcher = this.childWatchers.get(name);
    if (!watcher) {
      watcher = () => {
        this.dirtyChildren.add(name);
        void this.loop.request();
      };
      this.childWatchers.set(name, watcher);
    }
    return watcher;
  }

  /** Reads what is dirty until nothing is, then emits `changed` once if anything changed. */
  private async refresh(): Promise<void> {
    let changed = false;
    /** Children whose data is being read: put back if the read fails, so that the retry reads them. */
    let reading: string[] = [];
    try {
      while ((this.dirty || this.dirtyChildren.size > 0) && !this.loop.closed && !this.paused) {
        if (this.dirty) {
          this.dirty = false;
          const names = await this.zk.getChildren(this.path, this.onChildren);
          const fresh = new Set(names);
          for (const known of this.entries.keys()) if (!fresh.has(known)) this.entries.delete(known);
          for (const known of this.childWatchers.keys()) if (!fresh.has(known)) this.childWatchers.delete(known);
          if (this.options.withData) for (const n of names) if (!this.entries.has(n)) this.dirtyChildren.add(n);
          changed ||= names.length !== this.names.length || names.some((n) => !this.nameSet.has(n));
          this.names = names;
          this.nameSet = fresh;
        }
        const batch = (reading = [...this.dirtyChildren]);
        this.dirtyChildren.clear();
        const reads = await Promise.all(
          batch.map((n) => this.zk.getDataIfExists(childPath(this.path, n), this.childWatcher(n)).then((s) => [n, s] as const)),
        );
        reading = [];
        for (const [n, snap] of reads) {
          if (snap && this.nameSet.has(n)) {
            const prev = this.entries.get(n);
            if (!prev || prev.stat.mzxid !== snap.stat.mzxid) changed = true;
            this.entries.set(n, snap);
          } else if (this.entries.delete(n)) changed = true;
        }
      }
    } catch (err) {
      this.dirty = true;
      // A child's data read failed (connection loss): it is read again on the retry (found by
      // the fleet simulation, seed 1030: the leader kept a job's old definition after a reshard).
      for (const n of reading) this.dirtyChildren.add(n);
      if (!(err instanceof NoNodeError)) throw err;
      await this.awaitParent();
      return;
    }
    if (!this.dirty && this.dirtyChildren.size === 0) this.readOnce = true;
    if (changed && !this.loop.closed) this.emit('changed');
  }

  /**
   * The parent is gone (e.g. the job was removed): empty, until it is created again. Sets an
   * existence watch; if it was created in between, reads again.
   */
  private async awaitParent(): Promise<void> {
    if (this.loop.closed) return;
    const hadChildren = this.names.length > 0;
    this.readOnce = true; // (no parent: no children, as read)
    this.names = [];
    this.nameSet = new Set();
    this.entries.clear();
    if (hadChildren) this.emit('changed');
    if ((await this.zk.exists(this.path, this.onChildren)) !== null) void this.loop.request();
  }
}
