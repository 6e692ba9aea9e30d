import { describe, expect, it } from 'vitest';
import { itemLedgerView, ledgerSuccessOf, supersedes, takeoverDisagreement, type LedgerPartRead, type TakeoverReads } from '../../src/model/ledger-view.js';
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
    // (Runs without a token were begun by their part's last write: the part's mzxid is theirs.)
    expect(itemLedgerView(parts, 'j', 0, { mzxid: 20n, by: 1 })).toEqual({ claimMs: 12_000, inFlight: [{ member: A, live: false, fireMs: 9000, attempt: 1, token: 20n }, { member: B, live: true, fireMs: 12_000, attempt: 2, token: 25n }] });
    // B took the item over after A's last write and wrote its record: A's entry no longer counts.
    const later = [part(A, false, 20n, 9000, [0, 1], [[0, 9000, 1]]), part(B, true, 30n, 12_000, [0], [[0, 12_000, 2]])];
    expect(itemLedgerView(later, 'j', 0, { mzxid: 28n, by: 2 })).toEqual({ claimMs: 12_000, inFlight: [{ member: B, live: true, fireMs: 12_000, attempt: 2, token: 30n }] });
    expect(itemLedgerView(later, 'j', 1, { mzxid: 15n, by: 1 })).toEqual({ claimMs: 9000, inFlight: [] });
    expect(itemLedgerView(later, 'j', 1, undefined)).toEqual({ inFlight: [] }); // the item is gone
    expect(itemLedgerView(later, 'other', 0, { mzxid: 1n })).toEqual({ inFlight: [] });
  });

  it("a live member's claim with no run in flight is a run it released; the record says whether that was a success its ledger alone recorded (ledgerSuccessOf)", () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    // B began item 0 at 12,000 and released it; A (gone) still holds item 1 in flight.
    const parts = [part(A, false, 20n, 9000, [0, 1], [[1, 9000, 1]]), part(B, true, 25n, 12_000, [0], [])];
    const view = itemLedgerView(parts, 'j', 0, { mzxid: 21n, by: 1 });
    expect(view.released).toEqual({ member: B, fireMs: 12_000, readSeq: undefined });
    // The record says nothing of that fire: a success (no other release leaves the record unwritten).
    expect(ledgerSuccessOf(view, { lastCompleted: iso(11_000) }, 1000)).toEqual({ member: B, fireMs: 12_000, readSeq: undefined });
    expect(ledgerSuccessOf(view, {}, undefined)).toBeDefined();
    // The release wrote the record (a failure, a trigger's outcome, a re-run's end): the record says it.
    expect(ledgerSuccessOf(view, { lastCompleted: iso(12_000) }, 1000)).toBeUndefined();
    // The record carries a run (handed back, or a gone member's): its end is a write of the record.
    expect(ledgerSuccessOf(view, { lastCompleted: iso(11_000), inFlight: { fireTime: iso(12_000) } }, 1000)).toBeUndefined();
    // A claim from before the item was made is of an earlier item of its name.
    expect(ledgerSuccessOf(view, {}, 13_000)).toBeUndefined();
    // A gone member's claims tell of no release (its run may have been cut short); a run in flight is not released.
    expect(itemLedgerView(parts, 'j', 1, { mzxid: 21n, by: 1 }).released).toBeUndefined();
    expect(itemLedgerView([part(B, true, 25n, 12_000, [0], [[0, 12_000, 1]])], 'j', 0, { mzxid: 21n }).released).toBeUndefined();
    // Read in an order of reads (the console's): the record must have been read after the part.
    const seqView = itemLedgerView([{ ...parts[1]!, readSeq: 7 }], 'j', 0, { mzxid: 21n, by: 1 });
    expect(ledgerSuccessOf(seqView, {}, undefined, 8)).toBeDefined();
    expect(ledgerSuccessOf(seqView, {}, undefined, 6)).toBeUndefined();
    expect(ledgerSuccessOf(seqView, {}, undefined, 7)).toBeUndefined(); // not after it
    expect(ledgerSuccessOf(seqView, {}, undefined, undefined)).toBeUndefined();
  });

  describe('what a takeover read (takeoverDisagreement)', () => {
    const ME = 'm-cccc-0000000003';
    const at = (ms: number) => new Date(ms).toISOString();
    const reads = (over: Partial<TakeoverReads>): TakeoverReads => ({
      job: 'j',
      item: 0,
      parts: [],
      record: { lastScheduled: at(12_000), inFlight: null },
      stamp: { mzxid: 20n, by: 2 },
      me: ME,
      bornAtMs: undefined,
      ...over,
    });

    it("a gone member's current run in flight is the record's if the record carries one, and the record's must be in its ledger", () => {
      const gone = [part(A, false, 20n, 12_000, [0], [[0, 12_000, 1]])];
      const aFlight = { member: A, fireTime: at(12_000) };
      expect(takeoverDisagreement(reads({ parts: gone, stamp: { mzxid: 20n, by: 1 }, record: { lastScheduled: at(12_000), inFlight: aFlight } }))).toBeUndefined();
      // A run its member's ledger alone holds is not in the record (run protocol v2, step 4c).
      expect(takeoverDisagreement(reads({ parts: gone, stamp: { mzxid: 20n, by: 1 }, record: { lastScheduled: at(12_000), inFlight: null } }))).toBeUndefined();
      // A record that carries another run than the one a gone member's current entry has in flight.
      expect(takeoverDisagreement(reads({ parts: gone, stamp: { mzxid: 20n, by: 1 }, record: { lastScheduled: at(12_000), inFlight: { member: A, fireTime: at(9_000) } } }))).toMatch(/ledger of m-aaaa-0000000001 \(gone\) has the run at .* but the record carries m-aaaa-0000000001 at .*09\.000Z/);
      // The record, written last by A, carries A's run in flight that A's ledger does not have.
      const cleared = [part(A, false, 20n, 12_000, [0], [])];
      expect(takeoverDisagreement(reads({ parts: cleared, stamp: { mzxid: 20n, by: 1 }, record: { lastScheduled: at(12_000), inFlight: aFlight } }))).toMatch(/written last by m-aaaa-0000000001, gone.*its ledger does not/);
      // Unless A handed the run back (its release kept it in flight in the record, interrupted, and
      // took it out of A's ledger: fleet simulation, seed 8241 — a clock step gave back runs begun ahead).
      expect(takeoverDisagreement(reads({ parts: cleared, stamp: { mzxid: 20n, by: 1 }, record: { lastScheduled: at(12_000), inFlight: { ...aFlight, interrupted: true } } }))).toBeUndefined();
      // Written last by another member (a takeover of a disabled item carries the run on): A's entry is superseded, nothing to compare.
      expect(takeoverDisagreement(reads({ parts: gone, stamp: { mzxid: 30n, by: 2 }, record: { lastScheduled: at(12_000), inFlight: aFlight } }))).toBeUndefined();
      expect(takeoverDisagreement(reads({ parts: cleared, stamp: { mzxid: 30n, by: 2 }, record: { lastScheduled: at(12_000), inFlight: aFlight } }))).toBeUndefined();
    });

    it('a claim past the record frontier is no contradiction (step 4c: the claims are the frontier); no record, nothing to compare', () => {
      const parts = [part(B, true, 25n, 13_000, [0], [])];
      expect(takeoverDisagreement(reads({ parts }))).toBeUndefined();
      expect(takeoverDisagreement(reads({ parts, record: { inFlight: null } }))).toBeUndefined();
      expect(takeoverDisagreement(reads({ parts, record: undefined, stamp: undefined }))).toBeUndefined();
      // The view takes the claim, older ones too.
      const older = part(B, true, 25n, 13_000, [1], []);
      older.entries.get('j')!.o = new Map([[0, 11_000]]);
      expect(itemLedgerView([older], 'j', 0, { mzxid: 20n, by: 1 }).claimMs).toBe(11_000);
    });
  });
});
