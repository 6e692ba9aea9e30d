import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LedgerTable } from '../../src/executor/ledger-table.js';
import { encodeLedgerPart, ledgerPartOf, readLedgerPart, type LedgerEntry, type LedgerPart } from '../../src/model/member-ledger.js';

const PARTS = 4;

/**
 * The ledger as the writer kept it before the table (a map of entries with a Set and a Map each,
 * copied on write): the reference the table must match, write after write. Since step 4c a claim
 * is an item's frontier: the claims of items not begun at a job's new instant stay, as older ones.
 */
class ReferenceLedger {
  committed = new Map<string, LedgerEntry>();
  private next = new Map<string, LedgerEntry>();
  private touched = new Set<string>();

  private entry(job: string, create: boolean): LedgerEntry | undefined {
    const current = this.next.get(job) ?? this.committed.get(job);
    if (!current && !create) return undefined;
    if (this.touched.has(job)) return this.next.get(job)!;
    const copy: LedgerEntry = current ? { t: current.t, b: new Set(current.b), o: new Map(current.o), f: new Map(current.f) } : { b: new Set(), o: new Map(), f: new Map() };
    this.touched.add(job);
    this.next.set(job, copy);
    return copy;
  }

  leave(job: string, item: number): void {
    const e = this.entry(job, false);
    e?.b.delete(item);
    e?.o?.delete(item);
  }

  end(job: string, item: number): void {
    const e = this.entry(job, false);
    e?.f.delete(item);
  }

  begin(job: string, item: number, fireMs: number, attempt: number, scheduled: boolean): void {
    const e = this.entry(job, true)!;
    const o = e.o!;
    if (!scheduled) {
      // claims nothing
    } else if (e.t === undefined || fireMs > e.t) {
      for (const i of e.b) o.set(i, e.t!);
      e.t = fireMs;
      e.b = new Set([item]);
      o.delete(item);
    } else if (fireMs === e.t) {
      e.b.add(item);
      o.delete(item);
    } else if (!e.b.has(item) && (o.get(item) ?? -Infinity) < fireMs) o.set(item, fireMs);
    e.f.set(item, { fireMs, attempt });
  }

  /** `zxid`: the write's, the token of the runs it began. */
  commit(zxid: bigint): void {
    for (const job of this.touched) {
      const e = this.next.get(job)!;
      for (const [item, f] of e.f) if (f.token === undefined) e.f.set(item, { ...f, token: zxid });
      // Nothing claimed at `t` and nothing in flight: the instant is forgotten (older claims stay).
      if (e.b.size === 0 && e.f.size === 0) e.t = undefined;
      if (e.b.size === 0 && e.f.size === 0 && !e.o?.size) this.committed.delete(job);
      else this.committed.set(job, e);
    }
    this.rollback();
  }

  rollback(): void {
    this.next = new Map();
    this.touched = new Set();
  }

  /** A part as stored (entries with a claim or a run in flight; a claim only with items). */
  part(part: number): LedgerPart {
    const out: LedgerPart = new Map();
    for (const [job, e] of this.committed) if (ledgerPartOf(job, PARTS) === part) out.set(job, e);
    return decode(encodeLedgerPart(out));
  }
}

function decode(data: Buffer): LedgerPart {
  const read = readLedgerPart(data, '/ledger');
  if (!read.ok) throw read.error;
  return read.value;
}

/** The part as the table committed it: written by an empty write over it. */
function tablePart(table: LedgerTable, part: number): LedgerPart {
  return decode(table.encode(part));
}

type Op =
  | { kind: 'begin'; job: number; item: number; fire: number; attempt: number; scheduled: boolean }
  | { kind: 'end' | 'leave'; job: number; item: number };

const JOBS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

// Few jobs and mostly low items, so that writes meet the same entries often; a few past a word.
const job = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(4) });
const item = fc.oneof({ weight: 6, arbitrary: fc.nat(3) }, { weight: 1, arbitrary: fc.nat(100) });
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('begin' as const), job, item, fire: fc.nat(3), attempt: fc.integer({ min: 1, max: 2 }), scheduled: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('end' as const), job, item }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), job, item }) },
);

describe('LedgerTable', () => {
  it('says what the map-of-entries ledger says, write after write, applied or not', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ops: fc.array(op, { maxLength: 8 }), applied: fc.boolean() }), { maxLength: 30 }), (writes) => {
        const table = new LedgerTable(PARTS);
        const ref = new ReferenceLedger();
        let zxid = 100n;
        for (const { ops, applied } of writes) {
          for (const o of ops) {
            const job = JOBS[o.job]!;
            if (o.kind === 'begin') {
              const fireMs = 1_000_000 + o.fire * 1000;
              table.begin(job, o.item, fireMs, o.attempt, o.scheduled);
              ref.begin(job, o.item, fireMs, o.attempt, o.scheduled);
            } else if (o.kind === 'end') {
              table.end(job, o.item);
              ref.end(job, o.item);
            } else {
              table.leave(job, o.item);
              ref.leave(job, o.item);
            }
          }
          if (applied) {
            zxid += 1n;
            table.commitWrite(zxid);
            ref.commit(zxid);
          } else {
            table.rollbackWrite();
            ref.rollback();
          }
          for (let p = 0; p < PARTS; p++) expect(tablePart(table, p)).toEqual(ref.part(p));
          for (const job of JOBS) {
            const e = ref.committed.get(job);
            expect(table.flights(job)).toEqual(e?.f ?? new Map());
            for (const item of [0, 3, 7, 42, 100]) {
              expect(table.inFlight(job, item)).toBe(e?.f.has(item) ?? false);
              const claim = e?.b.has(item) ? e.t : e?.o?.get(item);
              expect(table.claimOf(job, item)).toBe(claim);
            }
          }
        }
      }),
      { numRuns: 600 },
    );
  });

  // An item that left comes back and is begun again before its old claim is let go (`LeftClaims`
  // decided on the claim it looked at): only that claim goes, never the new begin's.
  it('leave with the claim looked at drops only that claim', () => {
    const table = new LedgerTable(PARTS);
    table.begin('alpha', 0, 5000, 1, true);
    table.commitWrite(1n);
    table.begin('alpha', 0, 6000, 1, true); // begun again since the look at 5000
    table.commitWrite(2n);
    table.leave('alpha', 0, 5000);
    table.commitWrite(3n);
    expect(table.claimOf('alpha', 0)).toBe(6000);
    table.leave('alpha', 0, 6000);
    table.commitWrite(4n);
    expect(table.claimOf('alpha', 0)).toBeUndefined();
  });

  it('a write touches only the parts of its jobs; a part read back is the part written', () => {
    const table = new LedgerTable(PARTS);
    table.begin('alpha', 0, 5000, 1, true);
    table.begin('alpha', 9, 5000, 1, true);
    table.begin('alpha', 33, 4000, 2, false);
    expect(table.dirtyParts()).toEqual([ledgerPartOf('alpha', PARTS)]);
    const data = table.encode(ledgerPartOf('alpha', PARTS));
    expect(JSON.parse(data.toString())).toEqual({ v: 1, j: { alpha: { t: 5000, b: '0102', f: [[5000, 1, '0102'], [4000, 2, '0000000002']] } } });
    table.commitWrite();
    expect(table.dirtyParts()).toEqual([]);
    const again = new LedgerTable(PARTS);
    again.load(ledgerPartOf('alpha', PARTS), decode(data));
    expect(again.encode(ledgerPartOf('alpha', PARTS))).toEqual(data);
    expect(again.flights('alpha')).toEqual(table.flights('alpha'));
    // Loading a part again replaces what it held.
    again.load(ledgerPartOf('alpha', PARTS), undefined);
    expect(again.flights('alpha').size).toBe(0);
    expect(JSON.parse(again.encode(ledgerPartOf('alpha', PARTS)).toString())).toEqual({ v: 1, j: {} });
  });

  it("stores each group's token (its begin's zxid) from the write after its begin; a part read back gives the last write's zxid to groups without one", () => {
    const table = new LedgerTable(1);
    table.begin('alpha', 0, 5000, 1, true);
    table.commitWrite(7n);
    table.begin('alpha', 1, 5000, 1, true); // the same fire and attempt, begun by a later multi
    expect(JSON.parse(table.encode(0).toString())).toEqual({ v: 1, j: { alpha: { t: 5000, b: '03', f: [[5000, 1, '01', '7'], [5000, 1, '02']] } } });
    table.commitWrite(9n);
    expect(table.flights('alpha')).toEqual(new Map([[0, { fireMs: 5000, attempt: 1, token: 7n }], [1, { fireMs: 5000, attempt: 1, token: 9n }]]));
    // Read back from ZooKeeper as the write at 9 left it (no token on its own runs).
    const again = new LedgerTable(1);
    again.load(0, decode(Buffer.from(JSON.stringify({ v: 1, j: { alpha: { t: 5000, b: '03', f: [[5000, 1, '01', '7'], [5000, 1, '02']] } } }))), 9n);
    expect(again.flights('alpha')).toEqual(table.flights('alpha'));
    // A run ended, the other's group becomes the main one again, token kept.
    table.end('alpha', 0);
    table.commitWrite(11n);
    expect(JSON.parse(table.encode(0).toString())).toEqual({ v: 1, j: { alpha: { t: 5000, b: '03', f: [[5000, 1, '02', '9']] } } });
  });

  it('a job left with nothing claimed and nothing in flight forgets its instant (as its entry went)', () => {
    const table = new LedgerTable(1);
    table.begin('alpha', 0, 5000, 1, true);
    table.commitWrite();
    table.end('alpha', 0);
    table.leave('alpha', 0);
    table.commitWrite();
    table.begin('alpha', 0, 2000, 1, true); // an older instant (the item made anew): claimed
    table.commitWrite();
    expect(JSON.parse(table.encode(0).toString())).toEqual({ v: 1, j: { alpha: { t: 2000, b: '01', f: [[2000, 1, '01']] } } });
  });

  it('a job whose items grow past its room keeps what it held', () => {
    const table = new LedgerTable(1);
    for (let j = 0; j < 100; j++) table.begin(`job-${j}`, 1, 7000, 1, true);
    table.begin('job-5', 9_999, 7000, 1, true);
    table.commitWrite();
    expect([...table.flights('job-5').keys()]).toEqual([1, 9_999]);
    expect([...table.flights('job-6').keys()]).toEqual([1]);
    expect(table.claimOf('job-5', 9_999)).toBe(7000);
    expect(table.claimOf('job-4', 9_999)).toBeUndefined();
  });
});
