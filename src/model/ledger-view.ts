import { sequenceOf } from '../zk/zk-paths.js';
import type { LedgerPart } from './member-ledger.js';

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
}

/** What the current ledger entries say of an item. */
export interface ItemLedgerView {
  /** The latest instant of the schedule a member began the item at, as claimed (`t` with the item in `b`). */
  claimMs?: number;
  /** Its runs in flight (at most one, unless a member lost its session while running it). */
  inFlight: LedgerRunInFlight[];
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
    if (e.t !== undefined && e.b.has(item) && (view.claimMs === undefined || e.t > view.claimMs)) view.claimMs = e.t;
    const flight = e.f.get(item);
    if (flight) view.inFlight.push({ member: part.member, live: part.live, fireMs: flight.fireMs, attempt: flight.attempt });
  }
  return view;
}
