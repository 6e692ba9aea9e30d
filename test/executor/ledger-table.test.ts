import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LedgerTable } from '../../src/executor/ledger-table.js';
import { bitmapOf, claimOf, encodeLedgerPart, ledgerPartOf, readLedgerPart, type LedgerEntry, type LedgerPart } from '../../src/model/member-ledger.js';
import { readLedgerIndex, readLedgerNode } from '../../src/model/positional-ledger.js';

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

/** A part as the table's write in progress leaves it, as stored (its index at version 0). */
function encodePart(table: LedgerTable, part: number): Buffer {
  table.prepareIndex(part);
  return table.encode(part, 0);
}

/** A part the table wrote, read with the table's index of it. */
function decodeWritten(table: LedgerTable, part: number, data: Buffer): LedgerPart {
  const read = readLedgerNode(data, '/ledger', { version: 0, index: readLedgerIndex(table.encodeIndex(part), '/index') });
  if (!read.ok) throw read.error;
  return read.value;
}

/**
 * What a part says: per job, each item's claim and run in flight. (How claims split into `t`, `b`
 * and `o` is the form's: the positional form reads the latest claim as `t`.)
 */
function claimsAndFlights(part: LedgerPart): Map<string, { claims: Map<number, number>; f: LedgerEntry['f'] }> {
  const out = new Map<string, { claims: Map<number, number>; f: LedgerEntry['f'] }>();
  for (const [job, e] of part) {
    const claims = new Map<number, number>();
    for (const item of [...e.b, ...(e.o?.keys() ?? [])].sort((a, b) => a - b)) claims.set(item, claimOf(e, item)!);
    out.set(job, { claims, f: new Map([...e.f].sort((a, b) => a[0] - b[0])) });
  }
  return out;
}

/** Commits the write in progress as the writer does: each changed part's index and part encoded first. */
function commit(table: LedgerTable, zxid?: bigint): void {
  for (const p of table.dirtyParts()) encodePart(table, p);
  table.commitWrite(zxid);
}

/** The part as the table committed it: written by an empty write over it. */
function tablePart(table: LedgerTable, part: number): LedgerPart {
  return decodeWritten(table, part, encodePart(table, part));
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
            commit(table, zxid);
            ref.commit(zxid);
          } else {
            // As the writer does: encoded, then not applied.
            for (const p of table.dirtyParts()) encodePart(table, p);
            table.rollbackWrite();
            ref.rollback();
          }
          for (let p = 0; p < PARTS; p++) expect(claimsAndFlights(tablePart(table, p))).toEqual(claimsAndFlights(ref.part(p)));
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
    const k = ledgerPartOf('alpha', PARTS);
    const index = table.prepareIndex(k);
    // Positions in the order the items were met: 0, 9 (claimed and in flight), 33 (in flight only).
    expect(JSON.parse(index!.toString())).toEqual({ v: 2, j: [['alpha', '0102000002']] });
    const data = table.encode(k, 3);
    expect(JSON.parse(data.toString())).toEqual({ v: 2, iv: 3, c: [[5000, '03']], f: [[5000, 1, '03'], [4000, 2, '04']] });
    table.commitWrite();
    expect(table.dirtyParts()).toEqual([]);
    expect(table.prepareIndex(k)).toBeUndefined(); // nothing new: the index stays
    const read = readLedgerNode(data, '/ledger', { version: 3, index: readLedgerIndex(index, '/index') });
    if (!read.ok) throw read.error;
    expect(read.value).toEqual(new Map([['alpha', { t: 5000, b: new Set([0, 9]), f: new Map([[0, { fireMs: 5000, attempt: 1 }], [9, { fireMs: 5000, attempt: 1 }], [33, { fireMs: 4000, attempt: 2 }]]) }]]));
    // Read against another version of the index: refused (a write came between the two reads).
    expect(readLedgerNode(data, '/ledger', { version: 4, index: readLedgerIndex(index, '/index') }).ok).toBe(false);
    const again = new LedgerTable(PARTS);
    again.load(k, read.value);
    // What was read back is written anew with an index of its own.
    expect(again.prepareIndex(k)).toBeDefined();
    expect(decodeWritten(again, k, again.encode(k, 0))).toEqual(read.value);
    expect(again.flights('alpha')).toEqual(table.flights('alpha'));
    // Loading a part again replaces what it held.
    again.load(k, undefined);
    expect(again.flights('alpha').size).toBe(0);
    expect(JSON.parse(encodePart(again, k).toString())).toEqual({ v: 2, iv: 0 });
  });

  it("stores each group's token (its begin's zxid) from the write after its begin; a part read back gives the last write's zxid to groups without one", () => {
    const table = new LedgerTable(1);
    table.begin('alpha', 0, 5000, 1, true);
    table.commitWrite(7n);
    table.begin('alpha', 1, 5000, 1, true); // the same fire and attempt, begun by a later multi
    expect(JSON.parse(encodePart(table, 0).toString())).toEqual({ v: 2, iv: 0, c: [[5000, '03']], f: [[5000, 1, '01', '7'], [5000, 1, '02']] });
    table.commitWrite(9n);
    expect(table.flights('alpha')).toEqual(new Map([[0, { fireMs: 5000, attempt: 1, token: 7n }], [1, { fireMs: 5000, attempt: 1, token: 9n }]]));
    // Read back from ZooKeeper as the write at 9 left it (no token on its own runs).
    const again = new LedgerTable(1);
    again.load(0, decode(Buffer.from(JSON.stringify({ v: 1, j: { alpha: { t: 5000, b: '03', f: [[5000, 1, '01', '7'], [5000, 1, '02']] } } }))), 9n);
    expect(again.flights('alpha')).toEqual(table.flights('alpha'));
    // A run ended, the other's group becomes the main one again, token kept.
    table.end('alpha', 0);
    table.commitWrite(11n);
    expect(JSON.parse(encodePart(table, 0).toString())).toEqual({ v: 2, iv: 0, c: [[5000, '03']], f: [[5000, 1, '02', '9']] });
  });

  it('a job left with nothing claimed and nothing in flight forgets its instant (as its entry went)', () => {
    const table = new LedgerTable(1);
    table.begin('alpha', 0, 5000, 1, true);
    commit(table);
    table.end('alpha', 0);
    table.leave('alpha', 0);
    commit(table);
    table.begin('alpha', 0, 2000, 1, true); // an older instant (the item made anew): claimed
    commit(table);
    expect(tablePart(table, 0)).toEqual(new Map([['alpha', { t: 2000, b: new Set([0]), f: new Map([[0, { fireMs: 2000, attempt: 1 }]]) }]]));
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

describe('LedgerTable positions (the positional form)', () => {
  it('appends a position for each item newly held; a steady write leaves the index alone', () => {
    const table = new LedgerTable(1);
    table.begin('alpha', 1, 5000, 1, true);
    table.begin('beta', 0, 5000, 1, true);
    expect(JSON.parse(table.prepareIndex(0)!.toString())).toEqual({ v: 2, j: [['alpha', '02'], ['beta', '01']] });
    table.encode(0, 1);
    table.commitWrite(3n);
    // The next instant: the same items, no index write; its bits only.
    table.end('alpha', 1);
    table.end('beta', 0);
    table.begin('alpha', 1, 6000, 1, true);
    table.begin('beta', 0, 6000, 1, true);
    expect(table.prepareIndex(0)).toBeUndefined();
    expect(JSON.parse(table.encode(0, 1).toString())).toEqual({ v: 2, iv: 1, c: [[6000, '03']], f: [[6000, 1, '03']] });
    table.commitWrite(4n);
    // A new item of alpha: appended after beta's.
    table.begin('alpha', 4, 6000, 1, true);
    expect(JSON.parse(table.prepareIndex(0)!.toString())).toEqual({ v: 2, j: [['alpha', '02'], ['beta', '01'], ['alpha', '10']] });
    // Not applied: the index is as it was.
    table.encode(0, 2);
    table.rollbackWrite();
    expect(JSON.parse(table.encodeIndex(0).toString())).toEqual({ v: 2, j: [['alpha', '02'], ['beta', '01']] });
  });

  it('writes the index anew without dead positions once they outnumber the live ones', () => {
    const table = new LedgerTable(1);
    for (let item = 0; item < 100; item++) table.begin('wide', item, 5000, 1, true);
    table.prepareIndex(0);
    table.encode(0, 1);
    table.commitWrite(3n);
    // 90 items leave (ended, their claims gone): the index keeps them while they are few...
    for (let item = 0; item < 40; item++) {
      table.end('wide', item);
      table.leave('wide', item);
    }
    expect(table.prepareIndex(0)).toBeUndefined();
    table.encode(0, 1);
    table.commitWrite(4n);
    for (let item = 40; item < 90; item++) {
      table.end('wide', item);
      table.leave('wide', item);
    }
    // ...and drops them once they are more than the ones left.
    const index = table.prepareIndex(0);
    expect(JSON.parse(index!.toString())).toEqual({ v: 2, j: [['wide', bitmapOf(range(90, 100))]] });
    const data = table.encode(0, 2);
    table.commitWrite(5n);
    const read = readLedgerNode(data, '/ledger', { version: 2, index: readLedgerIndex(index, '/index') });
    expect(read.ok && [...read.value.get('wide')!.f.keys()]).toEqual(range(90, 100));
    // An item that left comes back: a new position.
    table.begin('wide', 3, 6000, 1, true);
    expect(JSON.parse(table.prepareIndex(0)!.toString())).toEqual({ v: 2, j: [['wide', bitmapOf(range(90, 100))], ['wide', '08']] });
  });

  it('a part read back writes its whole index anew with its next write', () => {
    const table = new LedgerTable(1);
    table.load(0, new Map([['alpha', { t: 5000, b: new Set([2]), f: new Map([[2, { fireMs: 5000, attempt: 1 }]]) }]]), 9n);
    table.begin('beta', 0, 6000, 1, true);
    expect(JSON.parse(table.prepareIndex(0)!.toString())).toEqual({ v: 2, j: [['alpha', '04'], ['beta', '01']] });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
