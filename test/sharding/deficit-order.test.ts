import { describe, it, expect } from 'vitest';
import { deficitOrder } from '../../src/sharding/deficit-order.js';
import { prng } from './support.js';

/** One item at a time: largest deficit first, ties by lower index. */
function naive(deficits: readonly number[]): number[] {
  const d = [...deficits];
  const order: number[] = [];
  for (;;) {
    let best = -1;
    for (let j = 0; j < d.length; j++) if (d[j]! > 0 && (best < 0 || d[j]! > d[best]!)) best = j;
    if (best < 0) return order;
    order.push(best);
    d[best]! -= 1;
  }
}

describe('deficitOrder', () => {
  it('serves the largest deficit first, ties in index order', () => {
    expect([...deficitOrder([3, 3, 2])]).toEqual([0, 1, 0, 1, 2, 0, 1, 2]);
    expect([...deficitOrder([1, 0, 4, -2, 2])]).toEqual([2, 2, 2, 4, 0, 2, 4]);
    expect([...deficitOrder([])]).toEqual([]);
    expect([...deficitOrder([0, 0])]).toEqual([]);
  });

  it('matches a one-item-at-a-time simulation on random deficits', () => {
    const rng = prng(7);
    for (let run = 0; run < 300; run++) {
      const deficits = Array.from({ length: rng.int(0, 12) }, () => rng.int(-2, 20));
      expect([...deficitOrder(deficits)]).toEqual(naive(deficits));
    }
  });
});
