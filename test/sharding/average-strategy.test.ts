import { describe, it, expect } from 'vitest';
import { averageStrategy } from '../../src/sharding/average-strategy.js';
import { countsOf, deepFreeze, itemsOf, prng, randomInput, workersOf } from './support.js';

const ids = ['a', 'b', 'c'];
const three = ids.map((id) => ({ id, capacity: 1 }));

describe('averageStrategy', () => {
  // ElasticJob AverageAllocationJobShardingStrategy examples.
  it.each([
    [9, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]],
    [8, [[0, 1, 6], [2, 3, 7], [4, 5]]],
    [10, [[0, 1, 2, 9], [3, 4, 5], [6, 7, 8]]],
    [2, [[0], [1], []]],
    [1, [[0], [], []]],
    [3, [[0], [1], [2]]],
  ])('spreads %i items over 3 workers like ElasticJob', (shards, expected) => {
    expect(itemsOf(averageStrategy({ job: 'j', shards, workers: three }), ids)).toEqual(expected);
  });

  it('gives everything to a single worker', () => {
    expect(averageStrategy({ job: 'j', shards: 4, workers: [{ id: 'a', capacity: 1 }] })).toEqual(['a', 'a', 'a', 'a']);
  });

  it('returns all null without workers', () => {
    expect(averageStrategy({ job: 'j', shards: 3, workers: [] })).toEqual([null, null, null]);
  });

  it('ignores previous owners and capacities', () => {
    const weighted = [{ id: 'a', capacity: 4 }, { id: 'b', capacity: 1 }, { id: 'c', capacity: 1 }];
    const previous = ['c', 'c', 'c', 'c', 'c', 'c', 'c', 'c'];
    expect(itemsOf(averageStrategy({ job: 'j', shards: 8, workers: weighted, previous }), ids)).toEqual([
      [0, 1, 6],
      [2, 3, 7],
      [4, 5],
    ]);
  });

  it('spreads only the unpinned items, in ascending order, and honours pins', () => {
    // Unpinned items: 1..9 (9 items) → 3 each; item 0 pinned to c.
    const owners = averageStrategy({ job: 'j', shards: 10, workers: three, pins: { 0: 'c' } });
    expect(itemsOf(owners, ids)).toEqual([[1, 2, 3], [4, 5, 6], [0, 7, 8, 9]]);
    // Unpinned u = 0,2,3,5,6,7,8 (7 items, q = 2, r = 1): a u0,u1 + u6; b u2,u3 + pins; c u4,u5.
    const pinned = averageStrategy({ job: 'j', shards: 9, workers: three, pins: { 1: 'b', 4: 'b' } });
    expect(itemsOf(pinned, ids)).toEqual([[0, 2, 8], [1, 3, 4, 5], [6, 7]]);
  });

  it('ignores pins to unknown workers and to items out of range', () => {
    const owners = averageStrategy({ job: 'j', shards: 9, workers: three, pins: { 0: 'gone', 12: 'a' } });
    expect(itemsOf(owners, ids)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  });

  it('balances unpinned items within one, on random inputs', () => {
    const rng = prng(11);
    for (let run = 0; run < 300; run++) {
      const input = deepFreeze({ ...randomInput(rng), pins: undefined });
      const counts = countsOf(averageStrategy(input), input.workers.map((w) => w.id));
      if (counts.length === 0) continue;
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      // The first workers (membership order) get the extra items.
      expect([...counts].sort((x, y) => y - x)).toEqual(counts);
    }
  });

  it('works with many workers', () => {
    const workers = workersOf(5);
    const owners = averageStrategy({ job: 'j', shards: 12, workers });
    expect(countsOf(owners, workers.map((w) => w.id))).toEqual([3, 3, 2, 2, 2]);
  });
});
