import { describe, it, expect } from 'vitest';
import { countMoves } from '../../src/sharding/count-moves.js';
import { minimumMoves } from '../../src/sharding/minimum-moves.js';
import { stickyStrategy } from '../../src/sharding/sticky-strategy.js';
import type { AllocationInput, WorkerSlot } from '../../src/sharding/allocation-input.js';
import { bruteForceMinimumMoves, referenceBounds, referenceMinimumMoves } from './sticky-reference.js';
import { countsOf, deepFreeze, effectivePins, fromItems, itemsOf, prng, randomInput, workersOf } from './support.js';

const equal = (...ids: string[]): WorkerSlot[] => ids.map((id) => ({ id, capacity: 1 }));

/** Every invariant sticky promises, for one input. */
function checkSticky(input: AllocationInput): void {
  const before = structuredClone(input);
  const owners = stickyStrategy(deepFreeze(input));
  expect(input).toEqual(before);
  expect(stickyStrategy(input)).toEqual(owners);
  expect(owners).toHaveLength(input.shards);
  const ids = input.workers.map((w) => w.id);
  if (ids.length === 0) {
    expect(owners.every((o) => o === null)).toBe(true);
    expect(minimumMoves(input)).toBe(0);
    return;
  }
  expect(owners.every((o) => o !== null && ids.includes(o))).toBe(true);
  for (const [item, id] of effectivePins(input)) expect(owners[item]).toBe(id);
  const { lower, upper } = referenceBounds(input);
  countsOf(owners, ids).forEach((count, j) => {
    expect(count).toBeGreaterThanOrEqual(lower.get(ids[j]!)!);
    expect(count).toBeLessThanOrEqual(upper.get(ids[j]!)!);
  });
  const moves = countMoves(input.previous ?? [], owners, input.workers);
  expect(moves).toBe(minimumMoves(input));
  expect(moves).toBe(referenceMinimumMoves(input));
  // Stable: allocating again from the result moves nothing.
  expect(stickyStrategy({ ...input, previous: owners })).toEqual(owners);
}

describe('stickyStrategy', () => {
  it('spreads a fresh job by largest deficit, ties in membership order', () => {
    const owners = stickyStrategy({ job: 'j', shards: 8, workers: equal('a', 'b', 'c') });
    expect(itemsOf(owners, ['a', 'b', 'c'])).toEqual([[0, 2, 5], [1, 3, 6], [4, 7]]);
  });

  it('weights by capacity', () => {
    const workers = [{ id: 'a', capacity: 1 }, { id: 'b', capacity: 2 }, { id: 'c', capacity: 1 }];
    const owners = stickyStrategy({ job: 'j', shards: 8, workers });
    expect(itemsOf(owners, ['a', 'b', 'c'])).toEqual([[2, 5], [0, 1, 3, 6], [4, 7]]);
  });

  it('handles fractional capacities exactly', () => {
    const workers = [{ id: 'a', capacity: 0.1 }, { id: 'b', capacity: 0.2 }, { id: 'c', capacity: 0.3 }];
    expect(countsOf(stickyStrategy({ job: 'j', shards: 6, workers }), ['a', 'b', 'c'])).toEqual([1, 2, 3]);
    expect(countsOf(stickyStrategy({ job: 'j', shards: 600, workers }), ['a', 'b', 'c'])).toEqual([100, 200, 300]);
  });

  it('keeps a balanced layout whichever workers hold the extra items', () => {
    for (const groups of [{ a: [0, 1, 2], b: [3, 4, 5], c: [6, 7] }, { a: [0, 1, 2], b: [3, 4], c: [5, 6, 7] }]) {
      const previous = fromItems(groups, 8);
      expect(stickyStrategy({ job: 'j', shards: 8, workers: equal('a', 'b', 'c'), previous })).toEqual(previous);
    }
  });

  it('on join, takes one item from each worker (its highest) and nothing else', () => {
    const previous = fromItems({ a: [0, 1, 2, 3], b: [4, 5, 6, 7], c: [8, 9, 10, 11] }, 12);
    const input = { job: 'j', shards: 12, workers: equal('a', 'b', 'c', 'd'), previous };
    const owners = stickyStrategy(input);
    expect(itemsOf(owners, ['a', 'b', 'c', 'd'])).toEqual([[0, 1, 2], [4, 5, 6], [8, 9, 10], [3, 7, 11]]);
    expect(countMoves(previous, owners)).toBe(3);
    expect(minimumMoves(input)).toBe(3);
  });

  it('on leave, hands the departed items out and moves nothing else', () => {
    const previous = fromItems({ a: [0, 1, 2, 3], b: [4, 5, 6, 7], c: [8, 9, 10, 11] }, 12);
    const input = { job: 'j', shards: 12, workers: equal('a', 'c'), previous };
    const owners = stickyStrategy(input);
    expect(itemsOf(owners, ['a', 'c'])).toEqual([[0, 1, 2, 3, 4, 6], [5, 7, 8, 9, 10, 11]]);
    expect(countMoves(previous, owners, input.workers)).toBe(0);
    expect(countMoves(previous, owners)).toBe(4); // without `live`, reassignments count too
    expect(minimumMoves(input)).toBe(0);
  });

  it('gives the extra slot to a worker already holding it before a larger fractional share', () => {
    // Shares 1.33 and 2.67: a keeps its second item instead of b taking a third.
    const workers = [{ id: 'a', capacity: 1 }, { id: 'b', capacity: 2 }];
    const previous = ['a', 'a', 'b', 'b'];
    expect(stickyStrategy({ job: 'j', shards: 4, workers, previous })).toEqual(previous);
    expect(countsOf(stickyStrategy({ job: 'j', shards: 4, workers }), ['a', 'b'])).toEqual([1, 3]);
  });

  it('moves one item when more workers hold an extra item than there are extra slots', () => {
    const input = { job: 'j', shards: 4, workers: equal('a', 'b', 'c'), previous: ['a', 'a', 'b', 'b'] };
    expect(stickyStrategy(input)).toEqual(['a', 'a', 'b', 'c']);
    expect(minimumMoves(input)).toBe(1);
  });

  it('reassigns items of departed owners and unowned items, ignoring previous entries past the end', () => {
    const previous = ['gone', null, 'a', undefined, 'b', 'gone', 'a', 'a', 'a'];
    const owners = stickyStrategy({ job: 'j', shards: 6, workers: equal('a', 'b'), previous });
    expect(owners).toEqual(['a', 'b', 'a', 'a', 'b', 'b']);
  });

  describe('pins', () => {
    it('places pins first and counts them towards the quota', () => {
      const owners = stickyStrategy({ job: 'j', shards: 6, workers: equal('a', 'b', 'c'), pins: { 5: 'a' } });
      expect(itemsOf(owners, ['a', 'b', 'c'])).toEqual([[2, 5], [0, 3], [1, 4]]);
    });

    it('pays for pins above the share out of the other workers’ extra slots first', () => {
      // Shares 1.67: a is pinned 3, b and c stay at their floor 1.
      const pins = { 0: 'a', 1: 'a', 2: 'a' };
      const owners = stickyStrategy({ job: 'j', shards: 5, workers: equal('a', 'b', 'c'), pins });
      expect(owners).toEqual(['a', 'a', 'a', 'b', 'c']);
    });

    it('re-balances the rest when pins exceed what the extra slots can pay for', () => {
      const pins = { 0: 'a', 1: 'a', 2: 'b', 3: 'b' };
      const owners4 = stickyStrategy({ job: 'j', shards: 4, workers: equal('a', 'b', 'c'), pins });
      expect(owners4).toEqual(['a', 'a', 'b', 'b']);
      // a pinned 5 of 8 (share 2): the other 3 items are shared by b, c, d: one each.
      const five = { 0: 'a', 2: 'a', 4: 'a', 6: 'a', 7: 'a' };
      const owners = stickyStrategy({ job: 'j', shards: 8, workers: equal('a', 'b', 'c', 'd'), pins: five });
      expect(countsOf(owners, ['a', 'b', 'c', 'd'])).toEqual([5, 1, 1, 1]);
    });

    it('ignores pins to ineligible workers and to items out of range', () => {
      const owners = stickyStrategy({ job: 'j', shards: 4, workers: equal('a', 'b'), pins: { 0: 'gone', 9: 'a' } });
      expect(countsOf(owners, ['a', 'b'])).toEqual([2, 2]);
    });

    it('counts a pinned item taken from another live worker as a move', () => {
      const input = { job: 'j', shards: 4, workers: equal('a', 'b'), previous: ['a', 'a', 'b', 'b'], pins: { 0: 'b' } };
      const owners = stickyStrategy(input);
      expect(owners).toEqual(['b', 'a', 'b', 'a']);
      expect(countMoves(input.previous, owners)).toBe(2);
      expect(minimumMoves(input)).toBe(2);
    });
  });

  it('returns all null without workers', () => {
    const owners = stickyStrategy({ job: 'j', shards: 3, workers: [], previous: ['a'], pins: { 0: 'a' } });
    expect(owners).toEqual([null, null, null]);
  });

  describe('properties on random inputs', () => {
    it('owns every item once, honours pins, balances, is deterministic and moves the minimum', () => {
      const rng = prng(42);
      for (let run = 0; run < 400; run++) checkSticky(randomInput(rng));
    });

    it('holds the same on small jobs, where pins overflow and extra slots are contended', () => {
      const rng = prng(48);
      for (let run = 0; run < 400; run++) checkSticky(randomInput(rng, { maxShards: 20, maxWorkers: 6 }));
    });

    it('balances equal capacities within one item', () => {
      const rng = prng(43);
      for (let run = 0; run < 300; run++) {
        const input = { ...randomInput(rng, { maxCapacity: 1 }), pins: undefined };
        const counts = countsOf(stickyStrategy(input), input.workers.map((w) => w.id));
        if (counts.length > 0) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
    });

    it('reaches the true minimum (brute force over every balanced allocation) on tiny inputs', () => {
      const rng = prng(44);
      for (let run = 0; run < 500; run++) {
        const input = randomInput(rng, { maxShards: 6, maxWorkers: 3, maxPins: 3 });
        if (input.workers.length === 0) continue;
        const best = bruteForceMinimumMoves(input);
        expect(minimumMoves(input)).toBe(best);
        expect(countMoves(input.previous ?? [], stickyStrategy(input), input.workers)).toBe(best);
      }
    });

    it('moves the minimum when a worker joins a balanced allocation', () => {
      const rng = prng(45);
      for (let run = 0; run < 300; run++) {
        const uniform = run % 2 === 0;
        const random = randomInput(rng, { previous: 0, maxCapacity: uniform ? 1 : 4 });
        const base = uniform ? { ...random, pins: undefined } : random;
        const previous = stickyStrategy(base);
        const joiner = { id: `m-${9_000_000_000 + run}`, capacity: uniform ? 1 : rng.int(1, 4) };
        const input = { ...base, previous, workers: [...base.workers, joiner] };
        checkSticky(input);
        if (uniform && base.workers.length > 0) {
          // Equal capacities: the newcomer's items are the only moves.
          const owners = stickyStrategy(input);
          expect(countMoves(previous, owners)).toBe(owners.filter((o) => o === joiner.id).length);
        }
      }
    });

    it('moves nothing but the departed worker’s items when one leaves (equal capacities, no pins)', () => {
      const rng = prng(46);
      for (let run = 0; run < 200; run++) {
        const base = { ...randomInput(rng, { previous: 0, maxCapacity: 1 }), pins: undefined };
        if (base.workers.length < 2) continue;
        const previous = stickyStrategy(base);
        const leaving = rng.int(0, base.workers.length - 1);
        const input = { ...base, previous, workers: base.workers.filter((_, j) => j !== leaving) };
        checkSticky(input);
        const owners = stickyStrategy(input);
        expect(countMoves(previous, owners, input.workers)).toBe(0);
        expect(countMoves(previous, owners)).toBe(previous.filter((o) => o === base.workers[leaving]!.id).length);
      }
    });

    it('moves the minimum when a weighted or pinned worker leaves', () => {
      const rng = prng(47);
      for (let run = 0; run < 200; run++) {
        const base = randomInput(rng, { previous: 0 });
        if (base.workers.length < 1) continue;
        const leaving = rng.int(0, base.workers.length - 1);
        checkSticky({ ...base, previous: stickyStrategy(base), workers: base.workers.filter((_, j) => j !== leaving) });
      }
    });
  });

  it('handles a large job', () => {
    const workers = workersOf(40, Array.from({ length: 40 }, (_, j) => 1 + (j % 4)));
    const owners = stickyStrategy({ job: 'j', shards: 100_000, workers });
    const counts = countsOf(owners, workers.map((w) => w.id));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    // Σcap = 100: shares are exactly 1000 per unit of capacity.
    expect(counts).toEqual(workers.map((w) => 1000 * w.capacity));
  });
});
