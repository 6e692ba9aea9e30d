import { describe, expect, it } from 'vitest';
import { encodeLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';
import { countPositional, encodeLedgerIndex, indexVersionOf, readLedgerIndex, readLedgerNode, type IndexRead } from '../../src/model/positional-ledger.js';

const PATH = '/ns/ledgers/m-x-0000000001/3';
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const index = (v: unknown, version = 4): IndexRead => ({ version, index: readLedgerIndex(json(v), `${PATH}/index`) });
/** Positions: a0 a2 b1 a5 (a's item 5 appended later). */
const INDEX = { v: 2, j: [['a', '05'], ['b', '02'], ['a', '20']] };

describe('positional ledger parts', () => {
  it('an index lists positions job by job; consecutive items of one job share an entry', () => {
    const read = readLedgerIndex(json(INDEX), `${PATH}/index`);
    expect(read).toEqual({ ok: true, value: { jobs: ['a', 'a', 'b', 'a'], items: [0, 2, 1, 5] } });
    expect(JSON.parse(encodeLedgerIndex(read.ok ? read.value : { jobs: [], items: [] }).toString())).toEqual(INDEX);
    expect(readLedgerIndex(undefined, 'x')).toEqual({ ok: true, value: { jobs: [], items: [] } });
  });

  it('a part says each position claim and run in flight, against the index version it names', () => {
    const data = json({ v: 2, iv: 4, c: [[5000, '03'], [4000, '08']], f: [[5000, 1, '01'], [3000, 2, '04', '77']] });
    expect(indexVersionOf(data)).toBe(4);
    const read = readLedgerNode(data, PATH, index(INDEX));
    const expected: LedgerPart = new Map([
      ['a', { t: 5000, b: new Set([0, 2]), o: new Map([[5, 4000]]), f: new Map([[0, { fireMs: 5000, attempt: 1 }]]) }],
      ['b', { b: new Set<number>(), f: new Map([[1, { fireMs: 3000, attempt: 2, token: 77n }]]) }],
    ]);
    expect(read).toEqual({ ok: true, value: expected });
    expect(countPositional(data, PATH)).toEqual({ ok: true, value: { indexVersion: 4, claimed: 3, inFlight: 2 } });
    // Nothing claimed, nothing in flight.
    expect(readLedgerNode(json({ v: 2, iv: 0 }), PATH, index({ v: 2, j: [] }, 0))).toEqual({ ok: true, value: new Map() });
  });

  it('a part in the first form reads as before, index or not', () => {
    const part: LedgerPart = new Map([['a', { t: 5000, b: new Set([1]), f: new Map() }]]);
    expect(indexVersionOf(encodeLedgerPart(part))).toBeUndefined();
    expect(readLedgerNode(encodeLedgerPart(part), PATH)).toEqual({ ok: true, value: part });
    expect(readLedgerNode(undefined, PATH)).toEqual({ ok: true, value: new Map() });
  });

  it.each([
    ['no index read with it', undefined, /no index was read with it/],
    ['another index version', index(INDEX, 5), /written against index version 4, read with version 5/],
    ['a malformed index', index({ v: 2, j: [['a', 'zz']] }), /its index is malformed/],
    ['an index giving an item two positions', index({ v: 2, j: [['a', '01'], ['a', '01']] }), /item 0 of a has two positions/],
  ])('a part read with %s is malformed', (_, idx, reason) => {
    const read = readLedgerNode(json({ v: 2, iv: 4, c: [[5000, '01']] }), PATH, idx);
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.error.path).toBe(PATH);
      expect(read.error.message).toMatch(reason);
    }
  });

  it.each([
    [{ v: 2, iv: 4, c: [[5000, '10']] }, /position 4 is past the index's 4/],
    [{ v: 2, iv: 4, c: [[5000, '01'], [6000, '01']] }, /c\[1\]: position 0 is claimed twice/],
    [{ v: 2, iv: 4, f: [[5000, 1, '01'], [5000, 2, '01']] }, /f\[1\]: item 0 of a is in flight twice/],
    [{ v: 2, iv: 4, c: [[-1, '01']] }, /c\[0\]\[0\]/],
    [{ v: 2, iv: 4, f: [[5000, 1, '01', 'x']] }, /f\[0\]\[3\]/],
    [{ v: 2, iv: 4, c: [[5000]] }, /c\[0\] must be \[instant, positions\]/],
  ])('malformed part %j is refused with where and what', (part, reason) => {
    const read = readLedgerNode(json(part), PATH, index(INDEX));
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error.message).toMatch(reason);
  });
});
