import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { MultiCommitter } from '../zk/batched-multi.js';
import { isConnectionTrouble } from '../zk/zk-errors.js';
import { ZkTransactionError, type ZkOpResult, type ZkTransaction } from '../zk/zk-transaction.js';
import { encodeLedgerPart, ledgerPartOf, readLedgerPart, type LedgerEntry, type LedgerPart } from '../model/member-ledger.js';
import type { Clock, TimerHandle } from '../clock/clock.js';

/** What one multi changes in the ledger: the runs it begins and the runs it ends. */
export interface LedgerDelta {
  /** `scheduled`: a fire of the schedule (not a trigger, not a re-run), whose instant the ledger claims as begun. */
  begun?: ReadonlyArray<{ job: string; item: number; fireMs: number; attempt: number; scheduled: boolean }>;
  ended?: ReadonlyArray<{ job: string; item: number }>;
}

/** Ledger nodes per member: a multi rewrites only the parts of the jobs it touches. */
export const LEDGER_PARTS = 32;

/** Bytes a multi sets aside for an op of a ledger part beyond the part's data (path, version, header). */
const PART_OP_BYTES = 128;
/** Bytes a multi may add to a job's entry beside its bitmaps (a new entry's keys and time, or a new group of runs in flight). */
const ENTRY_GROWTH_BYTES = 64;
/** Hex characters per byte of the bitmaps a multi may lengthen: `b`, `f` and a new group's. */
const BITMAP_GROWTH_PER_BYTE = 6;

/** A ledger write's changes to clear soon: a run that ended without our release (its marker was taken). */
const FORGET_WINDOW_MS = 10;
/** When such a write failed (a connection drop): tried again after this, unless another write carried it. */
const FORGET_RETRY_MS = 1000;

interface PartState {
  entries: LedgerPart;
  /** The node's data version, -1 while it does not exist. */
  version: number;
  /** Bytes of its data as last written. */
  bytes: number;
}

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
 * The member's one ledger writer (run protocol v2, step 2: docs/design/run-protocol-v2.md). Begins,
 * releases and marker drops commit through it (it is their `MultiCommitter`): it has at most one
 * multi in flight, and appends to each the writes of the ledger parts that multi changes — the
 * ledger as committed plus the multi's `LedgerDelta`, each version-checked. Only this member writes
 * its ledger while it lives, so the versions are known here; after an outcome it cannot know (a
 * connection drop) or a refused ledger write, the ledger is read again before the next write.
 * The ledger is written beside the markers and progress records and read by nothing yet: the
 * fleet simulation checks at every transaction that it says what the markers say.
 */
export class LedgerWriter implements MultiCommitter {
  private readonly zk: ZkSession;
  private readonly paths: ZkPaths;
  private readonly member: { readonly name: string };
  private readonly time: Clock;
  private readonly log: Logger;
  private readonly partCount: number;
  private readonly state: PartState[];
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
  /** Runs that ended without our release (their marker was taken): cleared by the next write. */
  private forgotten: Array<{ job: string; item: number }> = [];
  /** Items that left us: their claims (`b`) go with the next write. */
  private left: Array<{ job: string; item: number }> = [];
  private forgetTimer: TimerHandle | undefined;
  private closed = false;
  /** Each job's part, as computed once (the same jobs come back every instant). */
  private readonly partByJob = new Map<string, number>();

  constructor(parts: LedgerWriterParts) {
    ({ zk: this.zk, paths: this.paths, member: this.member, time: this.time, log: this.log } = parts);
    this.partCount = parts.parts ?? LEDGER_PARTS;
    this.state = Array.from({ length: this.partCount }, () => ({ entries: new Map(), version: -1, bytes: 0 }));
  }

  transaction(): ZkTransaction {
    return this.zk.transaction();
  }

  /** The ledger part `job` is kept in. */
  partOf(job: string): number {
    let part = this.partByJob.get(job);
    if (part === undefined) this.partByJob.set(job, (part = ledgerPartOf(job, this.partCount)));
    return part;
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
      bytes += this.state[part]!.bytes + PART_OP_BYTES;
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

  /** The run of the item ended without our release (a forced remove or reshard took its marker). */
  forget(job: string, item: number): void {
    if (!this.state[this.partOf(job)]!.entries.get(job)?.f.has(item)) return;
    this.forgotten.push({ job, item });
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

  /** The item left this member: its claim goes with the next write. */
  leave(job: string, item: number): void {
    if (this.state[this.partOf(job)]!.entries.get(job)?.b.has(item)) this.left.push({ job, item });
  }

  /** The items in flight as this member's ledger says (committed), for tests and checks. */
  inFlight(job: string): ReadonlyMap<number, { fireMs: number; attempt: number }> {
    return this.state[this.partOf(job)]!.entries.get(job)?.f ?? new Map();
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
      if (!this.made) await this.zk.mkdirp(this.paths.ledgers);
    } catch (err) {
      // Nothing of the multi was sent: said as a multi whose outcome is unknown, which the callers
      // already handle (they look at what is there once the session is usable again).
      if (isConnectionTrouble(err)) throw new ZkTransactionError(err, -1, undefined);
      throw err;
    }
    const forgotten = this.forgotten;
    const left = this.left;
    // What was forgotten first: it was queued before this multi's runs were begun.
    const next = this.plan([{ ended: forgotten }, ...(this.deltas.get(tx) ?? [])], left);
    this.forgotten = [];
    this.left = [];
    if (next.size === 0 && this.ledgerOnly.has(tx)) return [];
    const first = tx.size;
    const making = next.size > 0 && !this.made;
    if (making) tx.create(this.paths.ledger(this.member.name));
    const written: Array<{ part: number; entries: LedgerPart; bytes: number; op: number }> = [];
    for (const [part, entries] of [...next].sort((a, b) => a[0] - b[0])) {
      const data = encodeLedgerPart(entries);
      const path = this.paths.ledgerPart(this.member.name, part);
      const version = this.state[part]!.version;
      written.push({ part, entries, bytes: data.length, op: tx.size });
      if (version < 0) tx.create(path, data);
      else tx.setData(path, data, version);
    }
    try {
      const results = await this.zk.commit(tx);
      if (making) this.made = true;
      for (const w of written) {
        const stat = results[w.op]?.stat;
        this.state[w.part] = { entries: w.entries, version: stat ? stat.version : 0, bytes: w.bytes };
      }
      return results;
    } catch (err) {
      // Not applied (or not known): what was queued goes with the next write. The ledger is read
      // again first unless the server refused one of the multi's own ops (then ours was as we knew it).
      this.forgotten.push(...forgotten);
      this.left.push(...left);
      if (!(err instanceof ZkTransactionError) || err.failedIndex < 0 || err.failedIndex >= first) this.stale = true;
      throw err;
    }
  }

  /** The parts the deltas change, each as it will be written. */
  private plan(deltas: readonly LedgerDelta[], left: ReadonlyArray<{ job: string; item: number }>): Map<number, LedgerPart> {
    const next = new Map<number, LedgerPart>();
    /** The entries this write copied, each with its job. */
    const touched = new Map<LedgerEntry, string>();
    const entry = (job: string, create: boolean): LedgerEntry | undefined => {
      const part = this.partOf(job);
      let entries = next.get(part);
      const current = (entries ?? this.state[part]!.entries).get(job);
      if (!current && !create) return undefined;
      if (!entries) next.set(part, (entries = new Map(this.state[part]!.entries)));
      if (current && touched.has(current)) return current;
      const copy: LedgerEntry = current ? { t: current.t, b: new Set(current.b), f: new Map(current.f) } : { b: new Set(), f: new Map() };
      touched.set(copy, job);
      entries.set(job, copy);
      return copy;
    };
    /** The job's entry as this write leaves it so far. */
    const view = (job: string): LedgerEntry | undefined => (next.get(this.partOf(job)) ?? this.state[this.partOf(job)]!.entries).get(job);
    // First what left us: an item that came back and is begun by this very write keeps its claim.
    for (const r of left) if (view(r.job)?.b.has(r.item)) entry(r.job, false)!.b.delete(r.item);
    for (const d of deltas) {
      for (const r of d.ended ?? []) if (view(r.job)?.f.has(r.item)) entry(r.job, false)!.f.delete(r.item);
      for (const r of d.begun ?? []) {
        const e = entry(r.job, true)!;
        if (!r.scheduled) {
          // A trigger or a re-run claims no instant of the schedule.
        } else if (e.t === undefined || r.fireMs > e.t) {
          e.t = r.fireMs;
          e.b = new Set([r.item]);
        } else if (r.fireMs === e.t) e.b.add(r.item);
        e.f.set(r.item, { fireMs: r.fireMs, attempt: r.attempt });
      }
    }
    // Nothing claimed, nothing in flight: the entry goes (only those this write changed are looked at).
    for (const [e, job] of touched) if (e.f.size === 0 && e.b.size === 0) next.get(this.partOf(job))!.delete(job);
    return next;
  }

  /** Reads the ledger as committed (after an outcome we could not know, or a refused write). */
  private async reload(): Promise<void> {
    const found = await this.zk.getDataIfExists(this.paths.ledger(this.member.name));
    this.made = found !== null;
    await Promise.all(
      this.state.map(async (_, part) => {
        const path = this.paths.ledgerPart(this.member.name, part);
        const node = found ? await this.zk.getDataIfExists(path) : null;
        if (!node) {
          this.state[part] = { entries: new Map(), version: -1, bytes: 0 };
          return;
        }
        const read = readLedgerPart(node.data, path);
        if (!read.ok) {
          // Only this member writes it: whatever is there is overwritten with what we know.
          this.log.error({ err: read.error, path }, 'malformed ledger of our own in ZooKeeper; writing it anew');
        }
        this.state[part] = { entries: read.ok ? read.value : this.state[part]!.entries, version: node.stat.version, bytes: node.data.length };
      }),
    );
    this.stale = false;
  }
}
