import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { MultiCommitter } from '../zk/batched-multi.js';
import { isConnectionTrouble, NodeExistsError, RequestTooLargeError } from '../zk/zk-errors.js';
import { ZkTransactionError, type ZkOpResult, type ZkTransaction } from '../zk/zk-transaction.js';
import { LEDGER_PARTS, tokenOf, type LedgerFlight, type LedgerPart } from '../model/member-ledger.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';
import { LedgerTable } from './ledger-table.js';
import type { Clock, TimerHandle } from '../clock/clock.js';

/** What one multi changes in the ledger: the runs it begins and the runs it ends. */
export interface LedgerDelta {
  /** `scheduled`: a fire of the schedule (not a trigger, not a re-run), whose instant the ledger claims as begun. */
  begun?: ReadonlyArray<{ job: string; item: number; fireMs: number; attempt: number; scheduled: boolean }>;
  /** `fireMs`: only the item's run of that fire ends (a later run begun meanwhile stays). */
  ended?: ReadonlyArray<{ job: string; item: number; fireMs?: number }>;
  /**
   * Items that left this member whose claims go (another member's record write carries them on:
   * `LeftClaims`); `claimMs`: only that claim (a later one, of a begin since, stays).
   */
  left?: ReadonlyArray<{ job: string; item: number; claimMs?: number }>;
}


/** Bytes a multi sets aside for an op of a ledger part beyond the part's data (path, version, header). */
const PART_OP_BYTES = 128;
/** Bytes a multi may add to a job's entry beside its bitmaps (a new entry's keys and time, or a new group of runs in flight). */
const ENTRY_GROWTH_BYTES = 64;
/** Hex characters per byte of the bitmaps a multi may lengthen: `b`, `f` and a new group's. */
const BITMAP_GROWTH_PER_BYTE = 6;

/** A ledger write's changes to clear soon: a run that ended without our release (a forced operation took it). */
const FORGET_WINDOW_MS = 10;
/** When such a write failed (a connection drop): tried again after this, unless another write carried it. */
const FORGET_RETRY_MS = 1000;

export interface LedgerWriterParts {
  zk: ZkSession;
  paths: ZkPaths;
  member: { readonly name: string };
  time: Clock;
  log: Logger;
  /** @default LEDGER_PARTS */
  parts?: number;
}

/**
 * The member's one ledger writer (run protocol v2: docs/design/run-protocol-v2.md). Begins,
 * releases and orphan drops commit through it (it is their `MultiCommitter`): it has at most one
 * multi in flight, and appends to each the writes of the ledger parts that multi changes — the
 * ledger as committed plus the multi's `LedgerDelta`, each version-checked. Only this member writes
 * its ledger while it lives, so the versions are known here; after an outcome it cannot know (a
 * connection drop) or a refused ledger write, the ledger is read again before the next write.
 * The ledger is what holds the member's runs (its `f` bits; there are no markers): the member
 * asks it of its own runs, takeovers plan and wait by it, views show it, and an operator's removal
 * of items rewrites a part without them (then our next write of it is refused and the ledger read
 * again). The fleet simulation checks at every transaction who writes it and that no item is in
 * flight in two live members' ledgers (invariant (h)).
 */
export class LedgerWriter implements MultiCommitter {
  private readonly zk: ZkSession;
  private readonly paths: ZkPaths;
  private readonly member: { readonly name: string };
  private readonly time: Clock;
  private readonly log: Logger;
  private readonly partCount: number;
  /** The ledger by job slot, as committed and as the write in progress makes it. */
  private readonly table: LedgerTable;
  /** Each part node's data version, -1 while it does not exist. */
  private readonly versions: number[];
  /** Bytes of each part's data as last written. */
  private readonly bytes: number[];
  /** Each part's index node's data version (-1 while it does not exist) and bytes as last written. */
  private readonly indexVersions: number[];
  private readonly indexBytes: number[];
  private readonly deltas = new WeakMap<ZkTransaction, LedgerDelta[]>();
  /** Per multi: the parts reserved for, and per job the highest bitmap byte reserved for. */
  private readonly reserved = new WeakMap<ZkTransaction, { parts: Set<number>; jobs: Map<string, number> }>();
  /** Multis of ledger writes alone (`flush`): not sent when they have nothing to write. */
  private readonly ledgerOnly = new WeakSet<ZkTransaction>();
  /** Whether `/ledgers/<member>` exists (made by the first write). */
  private made = false;
  /** Read the ledger again before the next write. */
  private stale = false;
  private tail: Promise<unknown> = Promise.resolve();
  /** Per part, the zxid of its last write as known. */
  private readonly zxids: bigint[] = [];
  /** Runs that ended without our release (a forced operation took them): cleared by the next write. */
  private forgotten: Array<{ job: string; item: number; fireMs: number }> = [];
  private forgetTimer: TimerHandle | undefined;
  private closed = false;

  constructor(parts: LedgerWriterParts) {
    ({ zk: this.zk, paths: this.paths, member: this.member, time: this.time, log: this.log } = parts);
    this.partCount = parts.parts ?? LEDGER_PARTS;
    this.table = new LedgerTable(this.partCount);
    this.versions = new Array<number>(this.partCount).fill(-1);
    this.bytes = new Array<number>(this.partCount).fill(0);
    this.indexVersions = new Array<number>(this.partCount).fill(-1);
    this.indexBytes = new Array<number>(this.partCount).fill(0);
  }

  transaction(): ZkTransaction {
    return this.zk.transaction();
  }

  /** The ledger part `job` is kept in. */
  partOf(job: string): number {
    return this.table.partOf(job);
  }

  /**
   * Sets aside in `tx` the bytes the ledger write for a request of `job`'s `item` may need: its
   * part's data the first time the part is met in `tx`, its entry's growth the first time the job
   * is, and the bitmaps' growth up to the item. Call after the request's own ops are added, so
   * that a `truncate` of them gives the bytes back.
   */
  reserve(tx: ZkTransaction, job: string, item: number): void {
    let seen = this.reserved.get(tx);
    if (!seen) this.reserved.set(tx, (seen = { parts: new Set(), jobs: new Map() }));
    const part = this.partOf(job);
    const byte = item >> 3;
    const reachedByte = seen.jobs.get(job);
    let bytes = 0;
    if (!seen.parts.has(part)) {
      seen.parts.add(part);
      // The part, and its index (written again when the part gains items).
      bytes += this.bytes[part]! + this.indexBytes[part]! + 2 * PART_OP_BYTES;
    }
    if (reachedByte === undefined) bytes += ENTRY_GROWTH_BYTES + job.length + BITMAP_GROWTH_PER_BYTE * (byte + 1);
    else if (byte > reachedByte) bytes += BITMAP_GROWTH_PER_BYTE * (byte - reachedByte);
    if (reachedByte === undefined || byte > reachedByte) seen.jobs.set(job, byte);
    if (bytes > 0) tx.reserve(bytes);
  }

  /** What `tx` changes in the ledger: its ledger writes are appended when it is committed. */
  change(tx: ZkTransaction, delta: LedgerDelta): void {
    const list = this.deltas.get(tx);
    if (list) list.push(delta);
    else this.deltas.set(tx, [delta]);
  }

  /**
   * The item's run at `fireMs` ended without our release (a forced remove or reshard took it):
   * cleared by a write soon, unless a later run of the item is in flight by then.
   */
  forget(job: string, item: number, fireMs: number): void {
    if (!this.table.inFlight(job, item)) return;
    this.forgotten.push({ job, item, fireMs });
    this.flushIn(FORGET_WINDOW_MS);
  }

  /** Writes what `forget` queued in `delayMs`, unless a write is planned already. */
  private flushIn(delayMs: number): void {
    if (this.closed) return;
    this.forgetTimer ??= this.time.setTimeout(() => {
      this.forgetTimer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** The zxid of our last write of a ledger part, as known (0 before the first). */
  partZxid(part: number): bigint {
    return this.zxids[part] ?? 0n;
  }

  /** The instant our ledger (committed) claims the item was begun at last, if it does. */
  claimOf(job: string, item: number): number | undefined {
    return this.table.claimOf(job, item);
  }

  /**
   * The item's run in flight as this member's ledger says (committed), unless it is to be cleared
   * (`forget`: a forced operation took it, and cleared it in ZooKeeper already).
   */
  flightOf(job: string, item: number): LedgerFlight | undefined {
    const flight = this.table.flightOf(job, item);
    if (flight && this.forgotten.some((f) => f.job === job && f.item === item && f.fireMs === flight.fireMs)) return undefined;
    return flight;
  }

  /** The items in flight as this member's ledger says (committed), for tests and checks. */
  inFlight(job: string): ReadonlyMap<number, LedgerFlight> {
    return this.table.flights(job);
  }

  /**
   * The runs in flight of `items` as our ledger in ZooKeeper says now (each part read once), where
   * our own runs are held (run protocol v2: the `f` bits, not markers): a release, or a forced
   * remove or reshard (which clears the bits and fences us in one multi), ends them. A part that
   * cannot be read as a ledger (only we write it: never, unless someone else did) holds nothing.
   */
  async readInFlight(items: ReadonlyArray<{ job: string; item: number }>): Promise<Array<LedgerFlight | undefined>> {
    const reads = new Map<number, Promise<{ part: LedgerPart; mzxid: bigint } | undefined>>();
    const partOf = (job: string): Promise<{ part: LedgerPart; mzxid: bigint } | undefined> => {
      const k = this.partOf(job);
      let read = reads.get(k);
      if (!read) reads.set(k, (read = this.readPart(k)));
      return read;
    };
    return Promise.all(
      items.map(async ({ job, item }) => {
        const read = await partOf(job);
        const flight = read?.part.get(job)?.f.get(item);
        return flight && { ...flight, token: tokenOf(flight, read!.mzxid) };
      }),
    );
  }

  private async readPart(k: number): Promise<{ part: LedgerPart; mzxid: bigint } | undefined> {
    const path = this.paths.ledgerPart(this.member.name, k);
    const found = await readLedgerPartNode(this.zk, path);
    if (!found) return { part: new Map(), mzxid: 0n };
    if (found.part.ok) return { part: found.part.value, mzxid: found.stat.mzxid };
    this.log.error({ err: found.part.error, path }, 'malformed ledger of our own in ZooKeeper: its runs are not held');
    return undefined;
  }

  /** Commits `tx` with the ledger writes of its changes, one multi at a time. */
  commit(tx: ZkTransaction): Promise<ZkOpResult[]> {
    const run = this.tail.then(() => this.commitNow(tx));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer of pending clears. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.forgetTimer) this.time.clearTimeout(this.forgetTimer);
    this.forgetTimer = undefined;
  }

  /** Writes what `forget` queued, in a multi of its own (checking our member node). */
  private async flush(): Promise<void> {
    if (this.closed || this.forgotten.length === 0) return;
    const tx = this.zk.transaction().check(this.paths.member(this.member.name));
    this.ledgerOnly.add(tx);
    try {
      await this.commit(tx);
    } catch (err) {
      // Our member node is gone (index 0): the session is over, nothing more is written. Else (a
      // connection drop, our ledger read again) it goes with the next write, or in a while.
      const sessionOver = err instanceof ZkTransactionError && err.failedIndex === 0;
      this.log.debug({ err }, sessionOver ? 'ended runs not cleared from the ledger: our session is over' : 'could not clear ended runs from the ledger yet');
      if (!sessionOver) this.flushIn(FORGET_RETRY_MS);
    }
  }

  private async commitNow(tx: ZkTransaction): Promise<ZkOpResult[]> {
    tx.unreserve();
    try {
      if (this.stale) await this.reload();
      if (!this.made || this.versions.some((v) => v < 0) || this.indexVersions.some((v) => v < 0)) await this.makeLedger();
    } catch (err) {
      // Nothing of the multi was sent: said as a multi whose outcome is unknown, which the callers
      // already handle (they look at what is there once the session is usable again).
      if (isConnectionTrouble(err)) throw new ZkTransactionError(err, -1, undefined);
      throw err;
    }
    const forgotten = this.forgotten;
    // First what was forgotten (queued before this multi's runs were begun), then the multi's own.
    for (const r of forgotten) this.table.end(r.job, r.item, r.fireMs);
    for (const d of this.deltas.get(tx) ?? []) {
      for (const r of d.left ?? []) this.table.leave(r.job, r.item, r.claimMs);
      for (const r of d.ended ?? []) this.table.end(r.job, r.item, r.fireMs);
      for (const r of d.begun ?? []) this.table.begin(r.job, r.item, r.fireMs, r.attempt, r.scheduled);
    }
    this.forgotten = [];
    const parts = this.table.dirtyParts();
    if (parts.length === 0 && this.ledgerOnly.has(tx)) {
      this.table.rollbackWrite();
      return [];
    }
    const first = tx.size;
    const written: Array<{ part: number; bytes: number; op: number; index?: { bytes: number; op: number } }> = [];
    for (const part of parts) {
      // The index first when it changes (the part names the version it makes), then the part.
      const index = this.table.prepareIndex(part);
      let indexVersion = this.indexVersions[part]!;
      const w: (typeof written)[number] = { part, bytes: 0, op: -1 };
      if (index) {
        w.index = { bytes: index.length, op: tx.size };
        tx.setData(this.paths.ledgerIndex(this.member.name, part), index, indexVersion);
        indexVersion++;
      }
      const data = this.table.encode(part, indexVersion);
      w.bytes = data.length;
      w.op = tx.size;
      written.push(w);
      tx.setData(this.paths.ledgerPart(this.member.name, part), data, this.versions[part]!);
    }
    try {
      const results = await this.zk.commit(tx);
      // The multi's zxid (every op of a multi has it; a setData's answer says it): the token of the runs it began.
      this.table.commitWrite(results.find((r) => r.stat?.mzxid !== undefined)?.stat?.mzxid);
      for (const w of written) {
        const stat = results[w.op]?.stat;
        this.versions[w.part] = stat ? stat.version : 0;
        if (stat) this.zxids[w.part] = stat.mzxid;
        this.bytes[w.part] = w.bytes;
        if (w.index) {
          this.indexVersions[w.part] = results[w.index.op]?.stat?.version ?? this.indexVersions[w.part]! + 1;
          this.indexBytes[w.part] = w.index.bytes;
        }
      }
      return results;
    } catch (err) {
      // Not applied (or not known): what was queued goes with the next write. The ledger is read
      // again first unless the server refused one of the multi's own ops (then ours was as we knew it).
      this.table.rollbackWrite();
      this.forgotten.push(...forgotten);
      // (A multi the client refused as too large was not sent: nothing to read again.)
      if (err instanceof RequestTooLargeError) throw err;
      if (!(err instanceof ZkTransactionError) || err.failedIndex < 0 || err.failedIndex >= first) this.stale = true;
      throw err;
    }
  }

  /**
   * Makes our ledger node and every part of it not made yet (empty), and every part's index, so
   * that every write of a part is a `setData`, whose answer carries the multi's zxid (a `create`'s
   * does not): the token of the runs the multi begins.
   */
  private async makeLedger(): Promise<void> {
    for (let tries = 0; ; tries++) {
      const missing = this.versions.flatMap((v, part) => (v < 0 ? [part] : []));
      const noIndex = this.indexVersions.flatMap((v, part) => (v < 0 ? [part] : []));
      if (this.made && missing.length === 0 && noIndex.length === 0) return;
      if (!this.made) await this.zk.mkdirp(this.paths.ledgers);
      const tx = this.zk.transaction();
      if (!this.made) tx.create(this.paths.ledger(this.member.name));
      for (const part of missing) tx.create(this.paths.ledgerPart(this.member.name, part));
      for (const part of noIndex) tx.create(this.paths.ledgerIndex(this.member.name, part));
      try {
        await this.zk.commit(tx);
      } catch (err) {
        // Made already, by a multi of ours whose answer we did not get: read what is there.
        if (tries > 0 || !(err instanceof ZkTransactionError && err.reason instanceof NodeExistsError)) throw err;
        await this.reload();
        continue;
      }
      this.made = true;
      for (const part of missing) {
        this.versions[part] = 0;
        this.bytes[part] = 0;
      }
      for (const part of noIndex) {
        this.indexVersions[part] = 0;
        this.indexBytes[part] = 0;
      }
      return;
    }
  }

  /** Reads the ledger as committed (after an outcome we could not know, or a refused write). */
  private async reload(): Promise<void> {
    const found = await this.zk.getDataIfExists(this.paths.ledger(this.member.name));
    this.made = found !== null;
    await Promise.all(
      this.versions.map(async (_, part) => {
        const path = this.paths.ledgerPart(this.member.name, part);
        const node = found ? await readLedgerPartNode(this.zk, path) : null;
        // Its index is written anew with the part's next write (`LedgerTable.load`): only its version matters.
        const index = node ? await this.zk.getDataIfExists(this.paths.ledgerIndex(this.member.name, part)) : null;
        this.indexVersions[part] = index ? index.stat.version : -1;
        this.indexBytes[part] = index ? index.data.length : 0;
        if (!node) {
          this.table.load(part, undefined);
          this.versions[part] = -1;
          this.bytes[part] = 0;
          return;
        }
        if (!node.part.ok) {
          // Only this member writes it: whatever is there is overwritten with what we know.
          this.log.error({ err: node.part.error, path }, 'malformed ledger of our own in ZooKeeper; writing it anew');
          this.table.rewriteIndex(part);
        }
        if (node.part.ok) this.table.load(part, node.part.value, node.stat.mzxid);
        this.versions[part] = node.stat.version;
        this.zxids[part] = node.stat.mzxid;
        this.bytes[part] = node.data.length;
      }),
    );
    this.stale = false;
  }
}
