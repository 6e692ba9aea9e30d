import { describe, it, expect } from 'vitest';
import { averageStrategy } from '../../src/sharding/average-strategy.js';
import { javaHashCode } from '../../src/sharding/java-hash-code.js';
import { roundRobinOffset, roundRobinStrategy } from '../../src/sharding/round-robin-strategy.js';
import { deepFreeze, itemsOf, prng, randomInput } from './support.js';

const ids = ['host0', 'host1', 'host2'];
const workers = ids.map((id) => ({ id, capacity: 1 }));

describe('roundRobinOffset', () => {
  it('is Math.abs(hash) % n like ElasticJob', () => {
    expect(roundRobinOffset(49, 3)).toBe(1);
    expect(roundRobinOffset(-471176993, 3)).toBe(2);
    expect(roundRobinOffset(0, 4)).toBe(0);
    expect(roundRobinOffset(7, 1)).toBe(0);
  });

  it('uses the non-negative remainder for Integer.MIN_VALUE', () => {
    // Java: Math.abs(MIN_VALUE) % 3 === -2 (and ElasticJob fails); we use ((h % n) + n) % n.
    expect(roundRobinOffset(-2147483648, 3)).toBe(1);
    expect(roundRobinOffset(-2147483648, 5)).toBe(2);
    expect(roundRobinOffset(-2147483648, 4)).toBe(0);
  });
});

describe('roundRobinStrategy', () => {
  // ElasticJob RotateServerByNameJobShardingStrategyTest: hashes of "0", "1", "2" are 48, 49, 50.
  it.each([
    ['0', [[0], [1], []]],
    ['1', [[], [0], [1]]],
    ['2', [[1], [], [0]]],
  ])('rotates the workers by the hash of job %j', (job, expected) => {
    expect(itemsOf(roundRobinStrategy({ job, shards: 2, workers }), ids)).toEqual(expected);
  });

  it('rotates "sync-orders" (hash % 3 = 0) not at all and "hello" (hash % 3 = 1) by one', () => {
    expect(itemsOf(roundRobinStrategy({ job: 'sync-orders', shards: 8, workers }), ids)).toEqual([
      [0, 1, 6],
      [2, 3, 7],
      [4, 5],
    ]);
    expect(itemsOf(roundRobinStrategy({ job: 'hello', shards: 8, workers }), ids)).toEqual([
      [4, 5],
      [0, 1, 6],
      [2, 3, 7],
    ]);
  });

  it('does not fail for a job whose hash is Integer.MIN_VALUE', () => {
    // offset 1: order host1, host2, host0.
    expect(itemsOf(roundRobinStrategy({ job: 'polygenelubricants', shards: 2, workers }), ids)).toEqual([[], [0], [1]]);
  });

  it('honours pins and returns all null without workers', () => {
    const owners = roundRobinStrategy({ job: '1', shards: 3, workers, pins: { 0: 'host0' } });
    expect(itemsOf(owners, ids)).toEqual([[0], [1], [2]]);
    expect(roundRobinStrategy({ job: '1', shards: 1, workers: [] })).toEqual([null]);
  });

  it('equals average over the rotated worker list, on random inputs', () => {
    const rng = prng(31);
    for (let run = 0; run < 300; run++) {
      const input = deepFreeze(randomInput(rng));
      const n = input.workers.length;
      const offset = n === 0 ? 0 : roundRobinOffset(javaHashCode(input.job), n);
      const rotated = [...input.workers.slice(offset), ...input.workers.slice(0, offset)];
      expect(roundRobinStrategy(input)).toEqual(averageStrategy({ ...input, workers: rotated }));
    }
  });
});
