import { describe, expect, it } from 'vitest';
import { checkStoreWrites } from '../../../chaos/checker/check-store-writes.js';
import { compareTokens, parseToken } from '../../../chaos/checker/compare-tokens.js';
import { write } from './records.js';

const a = { pid: 1, token: '9', start: 0 };
const b = { pid: 2, token: '10', start: 0 };

describe('checkStoreWrites()', () => {
  it('accepts growing tokens (compared as numbers: 9 < 10) and equal tokens of one run', () => {
    const result = checkStoreWrites([write(a, 100), write(a, 150), write(b, 200), write(b, 250)]);
    expect(result.violations).toEqual([]);
    expect(result.counts).toEqual({ writes: 4, accepted: 4, refused: 0, acceptedStale: 0, refusedNotStale: 0 });
  });

  it('counts a refused stale write, not as a violation', () => {
    const result = checkStoreWrites([write(b, 100), write(a, 200, false, '10')]);
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ refused: 1, refusedNotStale: 0 });
  });

  it('reports an accepted write with a smaller token than one accepted before (in `at` order)', () => {
    // Listed out of order: the replay sorts by `at`.
    const result = checkStoreWrites([write(a, 300), write(b, 100)]);
    expect(result.counts.acceptedStale).toBe(1);
    expect(result.stale).toEqual([write(a, 300)]);
    expect(result.violations).toEqual([expect.objectContaining({ check: 'stale-write', at: 300, job: 'orders', item: 0, pids: [1, 2] })]);
    expect(result.violations[0]!.detail).toContain('accepted token 9 from pid 1');
    expect(result.violations[0]!.detail).toContain('larger token 10 from pid 2');
  });

  it('keeps keys apart', () => {
    const result = checkStoreWrites([write({ ...b, item: 1 }, 100), write(a, 300)]);
    expect(result.violations).toEqual([]);
  });

  it('counts a refused write nothing outranks', () => {
    expect(checkStoreWrites([write(b, 100, false)]).counts.refusedNotStale).toBe(1);
  });
});

describe('compareTokens()', () => {
  it('compares 64-bit tokens as integers', () => {
    expect(compareTokens('9', '10')).toBe(-1);
    expect(compareTokens('18446744073709551615', '18446744073709551614')).toBe(1);
    expect(compareTokens('42', '42')).toBe(0);
  });

  it('refuses what is not a decimal token', () => {
    expect(() => parseToken('')).toThrow(RangeError);
    expect(() => parseToken('0x10')).toThrow(/invalid fencing token/);
  });
});
