import { sequenceOf } from '../zk/zk-paths.js';
import { claimOf, tokenOf, type LedgerPart } from './member-ledger.js';
import type { InFlightRun } from './progress-record.js';
import { isoOf } from './iso-time.js';

/*
 * What the members' ledgers say of one item (run protocol v2, step 3: docs/design/run-protocol-v2.md).
 * A member writes its ledger only in the multis that also write its items' records, and never
 * again once it is gone; so a ledger's entry for an item is superseded once another member wrote
 * the item's record after the ledger part's last write (a takeover that read it, or the item made
 * anew), and current otherwise.
 */

/** One ledger part as read: its member, whether that member lives, the zxid of its last write. */
export interface LedgerPartRead {
  member: string;
  live: boolean;
  mzxid: bigint;
  entries: LedgerPart;
  /**
   * Where its read came in its reader's order of reads (the console's: `LedgerStore`), to tell
   * whether a record was read after it; undefined: read before every record it is used with.
   */
  readSeq?: number;
}

/** An item record's last write: its zxid and who wrote it (`ProgressRecord.by`). */
export interface RecordStamp {
  mzxid: bigint;
  by?: number;
}

/** A run in flight as a current ledger entry says. */
export interface LedgerRunInFlight {
  member: string;
  live: boolean;
  fireMs: number;
  attempt: number;
  /** Its fencing token (the zxid of the multi that began it). */
  token: bigint;
}

/** What the current ledger entries say of an item. */
export interface ItemLedgerView {
  /** The latest instant of the schedule a member began the item at, as claimed (`t` with the item in `b`). */
  claimMs?: number;
  /** Its runs in flight (at most one, unless a member lost its session while running it). */
  inFlight: LedgerRunInFlight[];
  /**
   * The latest instant a live member claims the item at with no run of it in flight: that member
   * began the fire and has released it since. Whether the release wrote the item's record is the
   * record's to say (`ledgerSuccessOf`).
   */
  released?: { member: string; fireMs: number; readSeq?: number };
}

/**
 * A run a ledger holds in flight as a record would say it: the fire and the attempt it began with,
 * started (as far as the ledger can say) at its fire time.
 */
export function inFlightOf(flight: { fireMs: number; attempt: number }, member: string, worker: string): InFlightRun {
  const at = isoOf(flight.fireMs);
  return { fireTime: at, attempt: flight.attempt, member, worker, startedAt: at };
}

/** Whether the record's last write supersedes the part's entries (see the top of this file). */
export function supersedes(record: RecordStamp, part: Pick<LedgerPartRead, 'member' | 'mzxid'>): boolean {
  return record.mzxid > part.mzxid && record.by !== sequenceOf(part.member);
}

/** The item as the ledger parts of its job say; `record` undefined: the item does not exist (nothing is current). */
export function itemLedgerView(parts: readonly LedgerPartRead[], job: string, item: number, record: RecordStamp | undefined): ItemLedgerView {
  const view: ItemLedgerView = { inFlight: [] };
  if (!record) return view;
  for (const part of parts) {
    const e = part.entries.get(job);
    if (!e || supersedes(record, part)) continue;
    const claim = claimOf(e, item);
    if (claim !== undefined && (view.claimMs === undefined || claim > view.claimMs)) view.claimMs = claim;
    const flight = e.f.get(item);
    if (flight) view.inFlight.push({ member: part.member, live: part.live, fireMs: flight.fireMs, attempt: flight.attempt, token: tokenOf(flight, part.mzxid) });
    else if (claim !== undefined && part.live && (view.released === undefined || claim > view.released.fireMs)) view.released = { member: part.member, fireMs: claim, readSeq: part.readSeq };
  }
  return view;
}

/** What `ledgerSuccessOf` says of a run: a success its member's ledger alone recorded. */
export interface LedgerSuccess {
  member: string;
  fireMs: number;
}

/**
 * The run a live member released without writing the item's record, when the record as read says
 * nothing of it: a success (run protocol v2, step 4c: a release writes the record for any other
 * outcome, for a run handed back, a run the record carries — a re-run, a retried attempt — and a
 * manual trigger's outcome, so such a run began at attempt 1). Sound only when the record was
 * read after the ledger part that released it (as `readFleetSnapshot` does; the console says so
 * with `readSeq`): an older read of the record may lack a failure that release wrote.
 * `bornAtMs`: when the record was made (a claim before it is of an earlier item of that name);
 * `recordReadSeq`: where the record's read came in the order of the parts' (`readSeq`).
 */
export function ledgerSuccessOf(
  view: ItemLedgerView,
  record: { lastCompleted?: string; inFlight?: object | null },
  bornAtMs: number | undefined,
  recordReadSeq?: number,
): LedgerSuccess | undefined {
  const r = view.released;
  if (!r || (bornAtMs !== undefined && r.fireMs < bornAtMs)) return undefined;
  if (r.readSeq !== undefined && (recordReadSeq === undefined || recordReadSeq <= r.readSeq)) return undefined;
  if (record.lastCompleted !== undefined && Date.parse(record.lastCompleted) >= r.fireMs) return undefined;
  // A record that carries a run (handed back, or a gone member's) is ended by a write of it.
  if (record.inFlight) return undefined;
  return r;
}

/** A contradiction a takeover found (`takeoverDisagreement`), for whoever watches the protocol (the simulation). */
export interface LedgerDisagreement {
  job: string;
  item: number;
  /** The member taking the item over. */
  member: string;
  /** When the takeover round began (ms on the worker's monotonic clock): its reads came after. */
  sinceMs: number;
  detail: string;
}

/** What a takeover read of an item, in this order: the ledgers (`parts`), then the record. */
export interface TakeoverReads {
  job: string;
  item: number;
  /** The job's part of every member's ledger, read after the takeover saw the item's assignment. */
  parts: readonly LedgerPartRead[];
  /** The item's record as read after the parts (as stored: the run in flight it carries), with its stamp; undefined: no record. */
  record: { lastScheduled?: string; inFlight?: { member: string; fireTime: string; interrupted?: boolean } | null } | undefined;
  stamp: RecordStamp | undefined;
  /**
   * When the item's record was made (ms, its ctime). A ledger may still claim an instant of an
   * earlier item of the same name (removed by a forced reshard while its member lived on, and its
   * member's later writes of that part keep the entry current): such a claim is before this.
   */
  bornAtMs: number | undefined;
  /** The member taking the item over (its own runs may have begun after the parts were read). */
  me: string;
}

/**
 * Where the ledgers, read before the record, contradict it (run protocol v2, step 3b: what the
 * takeover decides on must say what the record says); undefined when they agree (`computed`: the
 * item's view of `reads`, if the caller has it). Sound whatever happened between the reads, as
 * long as the item was `me`'s throughout them, because then nobody else can begin it (the move
 * fenced its last owner): a gone member's ledger never changes again; claims and records only grow,
 * and an item made anew has a newer record (its stamp supersedes gone members' entries) and a later
 * birth (which bounds live ones' claims).
 */
export function takeoverDisagreement(reads: TakeoverReads, computed?: ItemLedgerView): string | undefined {
  const { job, item, parts, record, stamp, me, bornAtMs } = reads;
  if (!record || !stamp) return undefined;
  const view = computed ?? itemLedgerView(parts, job, item, stamp);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const flight = record.inFlight;
  // A run its member's ledger alone holds is not in the record (run protocol v2, step 4c); a run
  // the record carries is the one a gone member's current entry has in flight, if any.
  for (const f of view.inFlight) {
    if (f.live || f.member === me || !flight) continue;
    if (flight.member !== f.member || Date.parse(flight.fireTime) !== f.fireMs) {
      return `the ledger of ${f.member} (gone) has the run at ${iso(f.fireMs)} in flight, but the record carries ${flight.member} at ${flight.fireTime}`;
    }
  }
  // A run handed back (`interrupted`: its release kept it in flight in the record for the next
  // owner and took it out of the member's ledger) is in the record only.
  if (flight && !flight.interrupted && flight.member !== me && stamp.by === sequenceOf(flight.member)) {
    const part = parts.find((p) => p.member === flight.member);
    const fireMs = Date.parse(flight.fireTime);
    if (part && !part.live && !view.inFlight.some((f) => f.member === flight.member && f.fireMs === fireMs)) {
      return `the record (written last by ${flight.member}, gone) has its run at ${flight.fireTime} in flight, but its ledger does not`;
    }
  }
  // (A claim past the record's frontier is no contradiction: the claims are the frontier, the
  // record's `lastScheduled` a base the steady begins do not write — step 4c.)
  return undefined;
}
