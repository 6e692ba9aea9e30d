import { describe, expect, it } from 'vitest';
import { itemLedgerView, supersedes, type LedgerPartRead } from '../../src/model/ledger-view.js';
import type { LedgerPart } from '../../src/model/member-ledger.js';

const A = 'm-aaaa-0000000001';
const B = 'm-bbbb-0000000002';
const part = (member: string, live: boolean, mzxid: bigint, t: number | undefined, b: number[], f: Array<[number, number, number]>): LedgerPartRead => ({
  member,
  live,
  mzxid,
  entries: new Map([['j', { t, b: new Set(b), f: new Map(f.map(([i, fireMs, attempt]) => [i, { fireMs, attempt }])) }]]) as LedgerPart,
});

describe('ledger view (run protocol v2, step 3)', () => {
  it("a record written after a member's ledger part supersedes its entries only when another member wrote it", () => {
    expect(supersedes({ mzxid: 10n, by: 2 }, { member: A, mzxid: 9n })).toBe(true);
    expect(supersedes({ mzxid: 10n, by: 1 }, { member: A, mzxid: 9n })).toBe(false); // A's own attempt update
    expect(supersedes({ mzxid: 9n, by: 2 }, { member: A, mzxid: 9n })).toBe(false); // written in the same multi
    expect(supersedes({ mzxid: 10n }, { member: A, mzxid: 9n })).toBe(true); // the item made anew (no writer yet)
  });

  it("the item's claim is the latest current one; its runs in flight are the current ones", () => {
    const parts = [part(A, false, 20n, 9000, [0, 1], [[0, 9000, 1]]), part(B, true, 25n, 12_000, [0], [[0, 12_000, 2]])];
    expect(itemLedgerView(parts, 'j', 0, { mzxid: 20n, by: 1 })).toEqual({ claimMs: 12_000, inFlight: [{ member: A, live: false, fireMs: 9000, attempt: 1 }, { member: B, live: true, fireMs: 12_000, attempt: 2 }] });
    // B took the item over after A's last write and wrote its record: A's entry no longer counts.
    const later = [part(A, false, 20n, 9000, [0, 1], [[0, 9000, 1]]), part(B, true, 30n, 12_000, [0], [[0, 12_000, 2]])];
    expect(itemLedgerView(later, 'j', 0, { mzxid: 28n, by: 2 })).toEqual({ claimMs: 12_000, inFlight: [{ member: B, live: true, fireMs: 12_000, attempt: 2 }] });
    expect(itemLedgerView(later, 'j', 1, { mzxid: 15n, by: 1 })).toEqual({ claimMs: 9000, inFlight: [] });
    expect(itemLedgerView(later, 'j', 1, undefined)).toEqual({ inFlight: [] }); // the item is gone
    expect(itemLedgerView(later, 'other', 0, { mzxid: 1n })).toEqual({ inFlight: [] });
  });
});
