import { describe, expect, it } from 'vitest';
import { bitmapOf, encodeLedgerPart, itemsOf, ledgerPartOf, readLedgerPart, type LedgerPart } from '../../src/model/member-ledger.js';

const PATH = '/ns/ledgers/m-x-0000000001/3';

function read(json: unknown) {
  return readLedgerPart(Buffer.from(JSON.stringify(json)), PATH);
}

describe('member ledger records', () => {
  it('bitmaps hold items as bits, in hex', () => {
    expect(bitmapOf([])).toBe('');
    expect(bitmapOf([0, 1])).toBe('03');
    expect(bitmapOf([9])).toBe('0002');
    expect(itemsOf('0302')).toEqual([0, 1, 9]);
    expect(itemsOf(bitmapOf([7, 8, 4095]))).toEqual([7, 8, 4095]);
  });

  it('a job always lands in the same part, spread over all of them', () => {
    expect(ledgerPartOf('job-1', 32)).toBe(ledgerPartOf('job-1', 32));
    const used = new Set(Array.from({ length: 1000 }, (_, i) => ledgerPartOf(`job-${i}`, 32)));
    expect(used.size).toBe(32);
  });

  it('round-trips: claims, runs in flight grouped by fire, attempt and token', () => {
    const part: LedgerPart = new Map([
      ['a', { t: 5000, b: new Set([0, 2]), f: new Map([[0, { fireMs: 5000, attempt: 1 }], [2, { fireMs: 5000, attempt: 1 }], [3, { fireMs: 1000, attempt: 2 }]]) }],
      ['b', { b: new Set<number>(), f: new Map([[1, { fireMs: 7000, attempt: 1 }], [4, { fireMs: 7000, attempt: 1, token: 12_345_678_901_234_567n }]]) }],
    ]);
    const data = encodeLedgerPart(part);
    expect(JSON.parse(data.toString())).toEqual({ v: 1, j: { a: { t: 5000, b: '05', f: [[5000, 1, '05'], [1000, 2, '08']] }, b: { f: [[7000, 1, '02'], [7000, 1, '10', '12345678901234567']] } } });
    const back = readLedgerPart(data, PATH);
    expect(back).toEqual({ ok: true, value: part });
  });

  it('no data is an empty ledger', () => {
    expect(readLedgerPart(undefined, PATH)).toEqual({ ok: true, value: new Map() });
  });

  it.each([
    [{ v: 2, j: {} }, 'v must be 1 (got 2)'],
    [{ v: 1, j: [] }, 'j must be an object'],
    [{ v: 1, j: { 'Bad Name': {} } }, 'j key must be a string matching'],
    [{ v: 1, j: { a: { t: -1, b: '01' } } }, 'j.a.t must be an integer'],
    [{ v: 1, j: { a: { t: 1, b: 'zz' } } }, 'j.a.b must be a string matching'],
    [{ v: 1, j: { a: { b: '01' } } }, 'j.a.b (items begun) needs t'],
    [{ v: 1, j: { a: { f: [[1, 1]] } } }, 'j.a.f[0] must be [fire, attempt, items, token?]'],
    [{ v: 1, j: { a: { f: [[1, 1, '01'], [2, 1, '01']] } } }, 'j.a.f[1]: item 0 is in flight twice'],
    [{ v: 1, j: { a: { f: [[1, 1, '01', 7]] } } }, 'j.a.f[0][3] must be a string'],
    [{ v: 1, j: { a: { f: [[1, 1, '01', '007']] } } }, 'j.a.f[0][3] must be a string matching'],
    [{ v: 1, j: { a: { f: [[1, 1, '01', '7', 'x']] } } }, 'j.a.f[0] must have at most 4 entries'],
  ])('malformed %j: says what and where', (json, reason) => {
    const out = read(json);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.message).toContain(PATH);
    expect(out.error.message).toContain(reason);
  });
});
