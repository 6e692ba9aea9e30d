import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { readHistory, readProgress, type ProgressRecord } from '../model/progress-record.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import { ItemMap } from './item-map.js';
import { isoOf } from '../model/iso-time.js';
import { RequestSlots } from '../zk/request-slots.js';
import type { RecordStamp } from '../model/ledger-view.js';

/**
 * Items whose record and history are read at once, at most; the others wait their turn. The first
 * instant of a worker that gained 20,000 items began them all together, and each begin of an item
 * not read yet sent its two reads: 40,000 at once.
 */
export const PROGRESS_READS_MAX = 512;

/** What the run ledger knows of one item: its progress record and history, with their versions. */
export interface CachedProgress {
  record: ProgressRecord;
  version: number;
  /** The record's last write: its zxid and writer (what tells a ledger entry superseded); undefined if unknown. */
  stamp?: RecordStamp;
  /** When the item's node was created (ZooKeeper's clock), or undefined if it does not exist. */
  createdAt?: number;
  /** Data version of the item's history node (`record.recent`), or -1 when it does not exist. */
  historyVersion: number;
  /** `record.recent` has entries the history node does not have yet. */
  historyDirty?: boolean;
  /** When (ms) a successful run's release writes the history node next (see HISTORY_WRITE_INTERVAL_MS). */
  historyDueAt?: number;
  /** The item is leaving this worker: write its history with its next release, or now. */
  retiring?: boolean;
  /**
   * The record as stored carries a run in flight (`inFlight`): one handed back, one another member
   * left that a takeover carried on, or a run of ours the ledger cannot say all of (a re-run with
   * its failovers, a retry's attempt). A run that is not carried is held by its member's ledger
   * alone, and `record.inFlight` says it locally only (run protocol v2, step 4c); the release of a
   * carried run writes the record.
   */
  carriesRun?: boolean;
  /**
   * We wrote the record since it was read (at this version or an earlier one of ours): what we
   * know of the item is in it. The first begin after a read writes it (run protocol v2, step 4c:
   * the steady begins write only the ledger).
   */
  consolidated?: boolean;
}

/**
 * A cache entry with every field named, present or not, in the order of `CachedProgress`: the
 * entries the begins and releases make (thousands an instant) are such literals, so that all have
 * one hidden class (see `FullRecord`).
 */
export type FullCachedProgress = { [K in keyof Required<CachedProgress>]: CachedProgress[K] };

/** An item in the cache, with its key's parts. */
export interface CachedItem {
  job: string;
  item: number;
  cached: CachedProgress;
}

/**
 * The run ledger's view of the items it runs: each item's progress record and run history as last
 * read or written, with their versions (every write is version-checked against them). A record
 * that cannot be read is reported once per version of it and never cached: the item is left alone.
 */
export class ProgressCache {
  private readonly entries = new ItemMap<CachedProgress>();
  private readonly reads = new RequestSlots(PROGRESS_READS_MAX);
  /** Malformed records reported, by item key, with the mzxid of the version reported. */
  private readonly malformedSeen = new Map<string, bigint>();
  /** Told of every malformed record found (for the worker's `zkshard_malformed_records_total`). */
  onMalformed: ((err: MalformedDataError) => void) | undefined;

  constructor(
    private readonly zk: Pick<ZkSession, 'getDataIfExists'>,
    private readonly paths: ZkPaths,
    private readonly log: Logger,
    /** When a freshly read item's history is first due to be written (spread over the interval). */
    private readonly firstHistoryDueAt: () => number,
  ) {}

  get(job: string, item: number): CachedProgress | undefined {
    return this.entries.get(job, item);
  }

  has(job: string, item: number): boolean {
    return this.entries.has(job, item);
  }

  set(job: string, item: number, entry: CachedProgress): void {
    this.entries.set(job, item, entry);
  }

  /** Forgets the item: it is read again when next needed. */
  delete(job: string, item: number): void {
    this.entries.delete(job, item);
  }

  /** Items cached. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached items `keep` accepts. Only those are made into `CachedItem`s: an idle worker's
   * history sweep looks at every item it caches every two seconds, and a `CachedItem` made for each
   * was most of what it allocated (8,000 items: 0.9 MB/s, enough that V8 never found it idle and
   * never gave back the memory its start had grown).
   */
  select(keep: (cached: CachedProgress, job: string, item: number) => boolean): CachedItem[] {
    const out: CachedItem[] = [];
    this.entries.forEach((cached, job, item) => {
      if (keep(cached, job, item)) out.push({ job, item, cached });
    });
    return out;
  }

  /** When the item's node was created (ZooKeeper's clock), as last loaded. */
  createdAt(job: string, item: number): Date | undefined {
    const at = this.get(job, item)?.createdAt;
    return at === undefined ? undefined : new Date(at);
  }

  /** The item's progress record (read from ZooKeeper unless cached, or when `refresh`). */
  async load(job: string, item: number, refresh = false): Promise<ProgressRecord> {
    if (!refresh) {
      const cached = this.entries.get(job, item);
      if (cached) return cached.record;
    }
    return (await this.read(job, item)).record;
  }

  /** The item's entry read from ZooKeeper now (merged with what our own writes left, the newer version winning). */
  async read(job: string, item: number): Promise<CachedProgress> {
    const [found, history] = await this.reads.run(() =>
      Promise.all([this.zk.getDataIfExists(this.paths.item(job, item)), this.zk.getDataIfExists(this.paths.history(job, item))]),
    );
    // A progress record that cannot be read is never written over (and so the item never run):
    // what it holds may be a fire in flight. The run history only informs, so a bad one is
    // started afresh.
    const progress = readProgress(found?.data, this.paths.item(job, item));
    const key = keyOf(job, item);
    if (!progress.ok) {
      this.entries.delete(job, item);
      this.reportMalformed(key, found!.stat.mzxid, progress.error);
      throw progress.error;
    }
    const recent = readHistory(history?.data, this.paths.history(job, item));
    if (!recent.ok) this.reportMalformed(`${key}/history`, history!.stat.mzxid, recent.error);
    const record = progress.value;
    record.recent = recent.ok ? recent.value : [];
    const loaded = {
      record,
      version: found ? found.stat.version : -1,
      stamp: found ? { mzxid: found.stat.mzxid, by: record.by } : undefined,
      createdAt: found?.stat.ctime,
      historyVersion: history ? history.stat.version : -1,
      historyDirty: undefined,
      historyDueAt: this.firstHistoryDueAt(),
      retiring: undefined,
      carriesRun: !!record.inFlight,
      consolidated: undefined,
    } satisfies FullCachedProgress;
    // A read that was overtaken by one of our own writes (a begin or release committed while it was
    // on its way) must not put the older state back: per node, the newer version wins.
    const existing = this.entries.get(job, item);
    const cached: CachedProgress = existing ? newerOf(existing, loaded) : loaded;
    this.entries.set(job, item, cached);
    return cached;
  }

  /** Logs a malformed record once per version of it (its mzxid). */
  private reportMalformed(key: string, mzxid: bigint, err: MalformedDataError): void {
    if (this.malformedSeen.get(key) === mzxid) return;
    this.malformedSeen.set(key, mzxid);
    this.log.error({ err, path: err.path }, 'record in ZooKeeper cannot be read: the item is left alone until it is fixed');
    this.onMalformed?.(err);
  }
}

function keyOf(job: string, item: number): string {
  return `${job}#${item}`;
}

/**
 * Per node (progress record, history), the entry with the higher version; the record's fields
 * follow it. At the same version the entry kept wins: it is what was read or written then, with
 * what we know locally since (our own run in flight, the outcome of a run whose release wrote only
 * our ledger).
 */
function newerOf(existing: CachedProgress, loaded: CachedProgress): CachedProgress {
  // A node deleted and created again (a forced remove or reshard) starts its versions anew.
  const sameNode = loaded.version >= 0 && existing.createdAt === loaded.createdAt;
  const progress = sameNode && existing.version >= loaded.version ? existing : loaded;
  const history = sameNode && existing.historyVersion >= loaded.historyVersion ? existing : loaded;
  return {
    record: { ...progress.record, recent: history.record.recent },
    version: progress.version,
    stamp: progress.stamp,
    createdAt: progress.createdAt,
    historyVersion: history.historyVersion,
    historyDirty: history === existing ? existing.historyDirty : false,
    historyDueAt: existing.historyDueAt,
    retiring: existing.retiring,
    carriesRun: progress.carriesRun,
    consolidated: progress.consolidated,
  } satisfies FullCachedProgress;
}

/** When the item's node was created, as the frontier of an item never fired (see `decideBegin`). */
export function bornAtOf(cached: CachedProgress): string | undefined {
  return cached.createdAt === undefined ? undefined : isoOf(cached.createdAt);
}
