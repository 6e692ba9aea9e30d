import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ChildrenCache } from '../zk/children-cache.js';
import { readLedgerPartNode, type LedgerNodeRead } from '../membership/read-ledger-node.js';
import type { ZkWatcher } from '../zk/zk-watch-event.js';
import { newerItemState, readItemState, type ItemState } from './item-state.js';
import type { LedgerStore } from './ledger-store.js';

export interface JobItemWatchEvents {
  /** An item's progress record, or the job's part of a member's ledger, changed. */
  changed: [];
}

/** The members' ledgers: their list (watched), and where their parts are kept. */
export interface LedgerSource {
  list: ChildrenCache;
  store: LedgerStore;
}

/**
 * The item nodes of one job a browser has open, watched: every item's progress record (one data
 * watch each), and the job's part of every member's ledger (one data watch each: which runs are in
 * flight; a member writes it at every instant one of its jobs in that part fires). Bound to one
 * session.
 */
export class JobItemWatch extends EventEmitter<JobItemWatchEvents> {
  private readonly progress: ChildrenCache;
  private readonly current = new Map<number, ItemState>();
  /**
   * Per member, the one watcher of its ledger part: the same function at every read, so that the
   * client keeps one registration per part however many reads set it.
   */
  private readonly partWatchers = new Map<string, ZkWatcher>();
  private readonly part: number;
  private loadedValue = false;
  private closed = false;
  private pausedValue = false;
  private readonly onLedgersListed = () => void this.readParts();

  constructor(private readonly zk: ZkClient, private readonly paths: ZkPaths, readonly job: string, private readonly log: Logger, private readonly ledgers: LedgerSource) {
    super();
    this.progress = new ChildrenCache(zk, paths.items(job), { withData: true, log });
    this.part = ledgers.store.partOf(job);
  }

  /** Whether every item was read once (before that, the cache's swept copy is used). */
  get loaded(): boolean {
    return this.loadedValue;
  }

  /** The items' nodes as last seen. */
  get states(): ReadonlyMap<number, ItemState> {
    return this.current;
  }

  /**
   * Reads every item once and sets the watches: the job's ledger parts first, then the items'
   * records, so that each record as read is as new as the parts (see `ledgerSuccessOf`).
   */
  async start(): Promise<void> {
    this.progress.on('changed', () => this.refresh());
    this.ledgers.list.on('changed', this.onLedgersListed);
    await this.readParts();
    await this.progress.start();
    this.refresh();
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
    await this.readParts();
    await this.progress.resume();
    this.refresh();
    this.loadedValue = !this.closed && !this.pausedValue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.progress.close();
    this.ledgers.list.off('changed', this.onLedgersListed);
    this.removeAllListeners();
  }

  /** Takes in the progress record of each item that changed. */
  private refresh(): void {
    if (this.closed || this.pausedValue) return;
    const present = new Set<number>();
    let changed = false;
    for (const name of this.progress.children) {
      if (!/^\d+$/.test(name)) continue;
      const item = Number(name);
      present.add(item);
      const progress = this.progress.data(name) ?? null;
      const known = this.current.get(item);
      if (known && !newerItemState(known, { progress })) continue;
      this.current.set(item, { progress });
      changed = true;
    }
    for (const item of this.current.keys()) {
      if (!present.has(item)) {
        this.current.delete(item);
        changed = true;
      }
    }
    if (changed) this.emit('changed');
  }

  /** Reads the job's part of every member's ledger listed (and watches it). */
  private async readParts(): Promise<void> {
    if (this.closed || this.pausedValue) return;
    const members = this.ledgers.list.children;
    for (const member of this.partWatchers.keys()) if (!members.includes(member)) this.partWatchers.delete(member);
    await Promise.all(members.map((member) => this.readPart(member)));
  }

  private async readPart(member: string): Promise<void> {
    let node: LedgerNodeRead | null;
    const readSeq = this.ledgers.store.nextReadSeq();
    try {
      node = await readLedgerPartNode(this.zk, this.paths.ledgerPart(member, this.part), this.partWatcher(member));
    } catch (err) {
      // The session's trouble; the cache is rebuilt if it ends. Keep what was known.
      this.log.debug({ err: (err as Error).message, job: this.job, member }, 'ledger part read failed');
      return;
    }
    if (this.closed || this.pausedValue) return;
    // Kept with the records of the runs it ended, in the same turn (`recordsEndedBy`).
    const records = await this.recordsEndedBy(member, node);
    if (this.closed || this.pausedValue) return;
    const put = this.ledgers.store.put(member, this.part, node, readSeq);
    if (this.takeRecords(records) || put) this.emit('changed');
  }

  /**
   * The records of this job's runs that `node`, a newer read of `member`'s ledger part than the one
   * kept, no longer has in flight, read now, after it (no watch: the cache's watches follow them);
   * an item whose read fails is left out. Whoever keeps `node` keeps these with it in the same turn
   * (`takeRecords`), so that a failure written with its release is never taken for a success its
   * ledger alone recorded (`ledgerSuccessOf`).
   */
  async recordsEndedBy(member: string, node: LedgerNodeRead | null): Promise<Array<[number, ItemState]>> {
    const items = this.ledgers.store.flightsEnded(member, this.job, node);
    const read = await Promise.all(items.map(async (item): Promise<[number, ItemState] | undefined> => {
      try {
        return [item, await readItemState(this.zk, this.paths, this.job, item, this.ledgers.store.nextReadSeq())];
      } catch (err) {
        this.log.debug({ err: (err as Error).message, job: this.job, item }, 'item record read failed');
        return undefined;
      }
    }));
    return read.filter((r) => r !== undefined);
  }

  /** Keeps each state read that is newer than the one known; returns whether any was. */
  takeRecords(records: ReadonlyArray<[number, ItemState]>): boolean {
    if (this.closed || this.pausedValue) return false;
    let changed = false;
    for (const [item, state] of records) {
      const known = this.current.get(item);
      if (known && !newerItemState(known, state)) continue;
      this.current.set(item, state);
      changed = true;
    }
    return changed;
  }

  private partWatcher(member: string): ZkWatcher {
    let w = this.partWatchers.get(member);
    if (!w) {
      w = () => {
        if (!this.closed && !this.pausedValue && this.partWatchers.get(member) === w) void this.readPart(member);
      };
      this.partWatchers.set(member, w);
    }
    return w;
  }
}
