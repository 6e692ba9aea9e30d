import type { Logger } from 'pino';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { ZkTransaction } from '../zk/zk-transaction.js';
import { commitBatched, type MultiCommitter, type RejectedDecision } from '../zk/batched-multi.js';
import { encodeHistory, type RecentOutcome, type RunOutcome } from '../model/progress-record.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { CachedItem, CachedProgress, ProgressCache } from './progress-cache.js';

/**
 * How often a successful run's release also writes the item's run history (`items/<i>/history`):
 * at most once per this interval per item (first time at a random point of it, so that items spread
 * over instants), longer on a worker with many items (`historyIntervalMs`). A run that does not succeed, the fires recorded missed or skipped, an item
 * leaving this worker and a drain write it at once; a sweep writes the histories of items that
 * have not run since theirs fell due (HISTORY_SWEEP_MS) and do not fire here again soon
 * (HISTORY_RELEASE_HORIZON_MS). A release writes at most a share of the
 * histories due only by the interval (HISTORY_SHARE_PER_RELEASE); the rest wait for the next release
 * or the sweep. So the history lags by at most the interval plus the horizon and two sweeps, and a worker that
 * crashes loses at most that much of it (never a run's frontier, which its member's ledger holds).
 */
export const HISTORY_WRITE_INTERVAL_MS = 10_000;
/**
 * The histories of successful runs a worker writes a second, on average, at most: beyond
 * HISTORY_WRITE_INTERVAL_MS × this many items, each item's interval grows with the worker's items,
 * so that the ZooKeeper writes of successes stay constant per worker (about 60 KB a second)
 * instead of growing with its items (20,000 items every 10 s were 2,000 writes and 1.2 MB a
 * second per worker, a hundred times its ledger's). A run that does not succeed is written at once.
 */
export const HISTORY_WRITES_PER_SECOND = 100;

/** The interval between the success-history writes of an item on a worker holding `items` items. */
export function historyIntervalMs(items: number): number {
  return Math.max(HISTORY_WRITE_INTERVAL_MS, Math.ceil((items * 1000) / HISTORY_WRITES_PER_SECOND));
}
/**
 * At most this share of a release's runs (and never fewer than HISTORY_WRITES_MIN) write a history
 * that is only due by the interval: the most overdue first, the others with a later release. Items
 * whose histories were written together (by a sweep, a takeover, a start) fall due together, and
 * 2,000 histories in one release pushed it past `maxRequestBytes`: two multis, the second late.
 */
export const HISTORY_SHARE_PER_RELEASE = 0.2;
const HISTORY_WRITES_MIN = 16;

/**
 * Every this often, the histories due for longer than this (their item has not run since) are
 * written by the sweep. An item firing more often than this writes its own with a release.
 */
const HISTORY_SWEEP_MS = 2000;
/**
 * An item that fires here again within this long is left to that run's release, even when its
 * history has been due for longer than a sweep: items firing every few seconds had their histories
 * swept between their instants, a multi or two of their own per instant (10,000 items on a worker
 * every 5 s: 3.5 transactions per instant instead of 2).
 */
export const HISTORY_RELEASE_HORIZON_MS = 10_000;

/**
 * Writes items' run histories (their last outcomes, `items/<i>/history`): with a release when one
 * is due (`withRelease`, `pickDue`, `op`), on their own for idle items (a sweep), for an item leaving this
 * worker, and all of them before a drain. Each write is version-checked against the cache: an item
 * whose history its next owner wrote meanwhile is read again, and ours is dropped.
 */
export class ItemHistoryWriter {
  /** Set by `flushAll` (drain): every release writes its history. */
  private flushEveryRelease = false;
  private sweepTimer: TimerHandle | undefined;
  private sweeping = false;

  constructor(
    private readonly zk: MultiCommitter,
    private readonly paths: ZkPaths,
    private readonly cache: ProgressCache,
    /** Whether a run of the item is in flight here (its history is written with its release). */
    private readonly runsHere: (cached: CachedProgress) => boolean,
    private readonly log: Logger,
    private readonly time: Clock,
    /** Whether the item fires here within `withinMs` (its history then goes with that run's release). */
    private readonly firesWithin: (job: string, item: number, withinMs: number) => boolean = () => false,
  ) {}

  /** Starts the sweep. */
  start(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.time.setInterval(() => void this.sweep(), HISTORY_SWEEP_MS);
    this.sweepTimer.unref?.();
  }

  /** Stops the sweep. Idempotent. */
  close(): void {
    this.time.clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Adds the op writing an item's history to a multi (create or version-checked setData). */
  op(tx: ZkTransaction, job: string, item: number, cached: CachedProgress, recent: readonly RecentOutcome[]): void {
    const data = encodeHistory(recent);
    if (cached.historyVersion < 0) tx.create(this.paths.history(job, item), data);
    else tx.setData(this.paths.history(job, item), data, cached.historyVersion);
  }

  /**
   * Whether the release of a run with this outcome writes the item's history: `'now'` when it must
   * (not a success, the item leaving, a drain), `'due'` when its interval passed (it may wait for a
   * later release: {@link pickDue}), else undefined.
   */
  withRelease(outcome: RunOutcome, cached: CachedProgress | undefined, now: number): 'now' | 'due' | undefined {
    if (outcome !== 'success' || this.flushEveryRelease || !cached || cached.retiring) return 'now';
    return now >= (cached.historyDueAt ?? 0) ? 'due' : undefined;
  }

  /**
   * Of the releases whose histories are only due (`withRelease` said `'due'`), the ones that write
   * them with a multi of `releases` runs: at most HISTORY_SHARE_PER_RELEASE of them, the longest
   * due first.
   */
  pickDue<R>(due: ReadonlyArray<{ request: R; cached: CachedProgress }>, releases: number): Set<R> {
    const budget = Math.max(HISTORY_WRITES_MIN, Math.ceil(releases * HISTORY_SHARE_PER_RELEASE));
    const chosen = due.length <= budget ? due : [...due].sort((a, b) => (a.cached.historyDueAt ?? 0) - (b.cached.historyDueAt ?? 0)).slice(0, budget);
    return new Set(chosen.map((d) => d.request));
  }

  /** When a history written now is next due with a release. */
  nextDueAt(): number {
    return this.time.now() + this.intervalMs();
  }

  /** The interval between an item's success-history writes now (`historyIntervalMs` of the items cached). */
  intervalMs(): number {
    return historyIntervalMs(this.cache.size);
  }

  /**
   * Before a drain: from now on every release writes its history, and the histories of items not
   * running here that are behind are written now (before the items can move).
   */
  async flushAll(): Promise<void> {
    this.flushEveryRelease = true;
    await this.write(this.behind());
  }

  /** Writes the histories of idle items whose write fell due an interval ago (never rejects). */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const late = this.time.now() - HISTORY_SWEEP_MS;
      await this.write(this.behind((cached, job, item) => (cached.historyDueAt ?? 0) <= late && !this.firesWithin(job, item, HISTORY_RELEASE_HORIZON_MS)));
    } finally {
      this.sweeping = false;
    }
  }

  /** Items whose history is behind, not running here, and matching `filter`. */
  private behind(filter: (cached: CachedProgress, job: string, item: number) => boolean = () => true): CachedItem[] {
    return this.cache.select((cached, job, item) => cached.historyDirty === true && !this.runsHere(cached) && filter(cached, job, item));
  }

  /**
   * Writes histories in size-bounded multis; an item whose history changed meanwhile is left out
   * (its entry is read again, never dropped: a run of it may have begun meanwhile, and its release
   * needs the record). Never rejects.
   */
  async write(items: readonly CachedItem[]): Promise<void> {
    try {
      await commitBatched(this.zk, items, {
        add: (tx, { job, item, cached }) => this.op(tx, job, item, cached, cached.record.recent ?? []),
        committed: (done) => {
          for (const { request, results } of done) {
            request.cached.historyDirty = false;
            request.cached.historyVersion = results[0]?.stat?.version ?? 0;
            request.cached.historyDueAt = this.nextDueAt();
          }
        },
        rejected: async ({ job, item, cached }): Promise<RejectedDecision> => {
          // That item's history changed meanwhile (its next owner wrote it): read it again.
          cached.historyDirty = false;
          await this.cache.load(job, item, true).catch(() => undefined);
          return 'drop';
        },
        unknown: async (sent, err) => {
          this.log.warn({ err, items: sent.length }, 'could not write run histories');
          return 'stop';
        },
      });
    } catch (err) {
      this.log.warn({ err, items: items.length }, 'could not write run histories');
    }
  }
}
