import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import type { NodeSnapshot } from '../zk/node-cache.js';
import type { ZkWatcher } from '../zk/zk-watch-event.js';
import { markerExpected, readMarkerNode, type ItemState } from './item-state.js';

export interface JobItemWatchEvents {
  /** An item's progress record or running marker changed. */
  changed: [];
}

/**
 * The item nodes of one job a browser has open, watched: every item's progress record (one data
 * watch each), and its running marker while the record says a run holds it (read existence-first,
 * with a watch that tells when it goes). A run costs two reads of its progress and one or two of
 * its marker; nothing is read for the marker of an idle item. Bound to one session.
 */
export class JobItemWatch extends EventEmitter<JobItemWatchEvents> {
  private readonly progress: ChildrenCache;
  private readonly current = new Map<number, ItemState>();
  /** Per item, the number of the latest read of its marker: an older read never overwrites a newer one. */
  private readonly reads = new Map<number, number>();
  /**
   * Per item, the one watcher of its marker: the same function at every read, so that the client
   * keeps one registration per marker however many reads set it (a read whose marker went in
   * between sets nothing on the server, and would otherwise leave one more behind each time).
   */
  private readonly markerWatchers = new Map<number, ZkWatcher>();
  private loadedValue = false;
  private closed = false;
  private pausedValue = false;

  constructor(private readonly zk: ZkClient, private readonly paths: ZkPaths, readonly job: string, private readonly log: Logger) {
    super();
    this.progress = new ChildrenCache(zk, paths.items(job), { withData: true, log });
  }

  /** Whether every item was read once (before that, the cache's swept copy is used). */
  get loaded(): boolean {
    return this.loadedValue;
  }

  /** The items' nodes as last seen. */
  get states(): ReadonlyMap<number, ItemState> {
    return this.current;
  }

  /** Reads every item once and sets the watches. */
  async start(): Promise<void> {
    this.progress.on('changed', () => void this.refresh());
    await this.progress.start();
    await this.refresh();
    this.loadedValue = !this.closed && !this.pausedValue;
  }

  /** Whether it is paused (the job is not open: its states are not kept up to date). */
  get paused(): boolean {
    return this.pausedValue;
  }

  /**
   * The job is no longer open: stop reading (see `ChildrenCache.pause`: kept, rather than closed
   * and made anew at the next opening, so that the watches left on nodes that do not change —
   * an idle job's items — are not set once more at every opening).
   */
  pause(): void {
    if (this.closed || this.pausedValue) return;
    this.pausedValue = true;
    this.loadedValue = false;
    this.progress.pause();
  }

  /** The job is open again: read every item again and follow them. */
  async resume(): Promise<void> {
    if (this.closed || !this.pausedValue) return;
    this.pausedValue = false;
    await this.progress.resume();
    await this.refresh();
    this.loadedValue = !this.closed && !this.pausedValue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.progress.close();
    this.removeAllListeners();
  }

  /** Reads the marker of each item whose progress record changed. */
  private async refresh(): Promise<void> {
    if (this.closed || this.pausedValue) return;
    const present = new Set<number>();
    const updates: Promise<void>[] = [];
    for (const name of this.progress.children) {
      if (!/^\d+$/.test(name)) continue;
      const item = Number(name);
      present.add(item);
      const progress = this.progress.data(name) ?? null;
      const known = this.current.get(item);
      if (known && (known.progress?.stat.mzxid ?? -1n) === (progress?.stat.mzxid ?? -1n)) continue;
      updates.push(this.update(item, progress));
    }
    let removed = false;
    for (const item of this.current.keys()) {
      if (!present.has(item)) {
        this.current.delete(item);
        this.reads.delete(item);
        this.markerWatchers.delete(item);
        removed = true;
      }
    }
    if (removed) this.emit('changed');
    await Promise.all(updates);
  }

  private async update(item: number, progress: NodeSnapshot | null): Promise<void> {
    const read = (this.reads.get(item) ?? 0) + 1;
    this.reads.set(item, read);
    let marker: NodeSnapshot | null = null;
    if (markerExpected(progress)) {
      try {
        marker = await readMarkerNode(this.zk, this.paths.running(this.job, item), this.markerWatcher(item));
      } catch (err) {
        // The session's trouble; the cache is rebuilt if it ends. Keep what was known.
        this.log.debug({ err: (err as Error).message, job: this.job, item }, 'running marker read failed');
        marker = this.current.get(item)?.marker ?? null;
      }
    }
    if (this.closed || this.pausedValue || this.reads.get(item) !== read) return;
    this.current.set(item, { progress, marker });
    this.emit('changed');
  }

  private markerWatcher(item: number): ZkWatcher {
    let w = this.markerWatchers.get(item);
    if (!w) {
      // The marker went (or changed): read it again, existence first (no error when it is gone).
      w = () => {
        const known = this.current.get(item);
        if (!this.closed && !this.pausedValue && known) void this.update(item, known.progress);
      };
      this.markerWatchers.set(item, w);
    }
    return w;
  }
}
