import { describe, it, expect } from 'vitest';
import { javaHashCode } from '../../src/sharding/java-hash-code.js';

describe('javaHashCode', () => {
  // Expected values printed by a JVM (`String.hashCode()`).
  it.each([
    ['', 0],
    ['a', 97],
    ['abc', 96354],
    ['hello', 99162322],
    ['sync-orders', 1262919255],
    ['job-a', 101295697],
    ['job-b', 101295698],
    ['report.daily', -471176993],
    ['zkshard', -220981427],
    ['polygenelubricants', -2147483648],
    ['GydZG_', -2147483648],
    ['héllo', 103094734],
    ['😀', 1772899],
  ])('hash of %j is %i', (s, expected) => {
    expect(javaHashCode(s)).toBe(expected);
  });

  it('always returns a 32-bit signed integer', () => {
    const long = 'x'.repeat(10_000);
    const h = javaHashCode(long);
    expect(Number.isInteger(h)).toBe(true);
    expect(h).toBe(h | 0);
  });
});
