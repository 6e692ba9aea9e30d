import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/simulation/seeded-random.js';

describe('SeededRandom', () => {
  it('the same seed gives the same sequence; the first values are pinned so traces replay across versions', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const seqA = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(seqA);
    expect(new SeededRandom(43).uint32()).not.toBe(seqA[0]);
    expect(seqA.slice(0, 3)).toEqual([1028872839, 2516511472, 400437680]);
  });

  it('draws stay in range and cover it', () => {
    const r = new SeededRandom(1);
    const seen = new Set<number>();
    const bad: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = r.int(10);
      if (!(Number.isInteger(v) && v >= 0 && v < 10)) bad.push(v);
      seen.add(v);
      const f = r.float();
      if (!(f >= 0 && f < 1)) bad.push(f);
      const b = r.between(-3, 3);
      if (!(Number.isInteger(b) && b >= -3 && b <= 3)) bad.push(b);
    }
    expect(bad).toEqual([]);
    expect(seen.size).toBe(10);
    expect(r.chance(0)).toBe(false);
  });

  it('shuffle is a permutation; pick takes an element; forks are independent streams', () => {
    const r = new SeededRandom(9);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle(items);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(items).toContain(r.pick(items));
    const f1 = new SeededRandom(5).fork();
    const f2 = new SeededRandom(5).fork();
    expect(f1.uint32()).toBe(f2.uint32());
  });

  it('rejects bad arguments with a clear error', () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(/seed must be a finite number, got NaN/);
    const r = new SeededRandom(1);
    expect(() => r.int(0)).toThrow(/int\(n\) needs an integer n in 1..2\^32, got 0/);
    expect(() => r.pick([])).toThrow(/empty list/);
    expect(() => r.between(2, 1)).toThrow(/max is below min/);
  });
});
