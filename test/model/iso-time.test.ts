import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isoOf, isoOfDate, msOf } from '../../src/model/iso-time.js';

describe('iso-time', () => {
  it('gives what Date gives, remembered or not, for any time (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8.64e15, max: 8.64e15 }), { minLength: 1, maxLength: 300 }), (times) => {
        // Twice over: the second pass answers from what the first remembered (and evicted).
        for (const ms of [...times, ...times]) {
          const text = new Date(ms).toISOString();
          expect(isoOf(ms)).toBe(text);
          expect(isoOfDate(new Date(ms))).toBe(text);
          expect(msOf(text)).toBe(ms);
        }
      }),
    );
  });

  it('parses what Date.parse parses, and fails as it does', () => {
    for (const text of ['2026-12-03T18:00:00.000Z', '2026-12-03T18:00:00Z', '2026-12-03', 'not a time', '', '2026-13-40T99:00:00.000Z']) {
      expect(Object.is(msOf(text), Date.parse(text))).toBe(true);
      expect(Object.is(msOf(text), Date.parse(text))).toBe(true);
    }
    expect(() => isoOf(Number.NaN)).toThrow(RangeError);
    expect(() => isoOf(8.64e15 + 1)).toThrow(RangeError);
  });
});
