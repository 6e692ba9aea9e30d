import { describe, it, expect } from 'vitest';
import { averageStrategy } from '../../src/sharding/average-strategy.js';
import { javaHashCode } from '../../src/sharding/java-hash-code.js';
import { odevityStrategy } from '../../src/sharding/odevity-strategy.js';
import { deepFreeze, itemsOf, prng, randomInput } from './support.js';

const ids = ['host0', 'host1', 'host2'];
const workers = ids.map((id) => ({ id, capacity: 1 }));

describe('odevityStrategy', () => {
  // ElasticJob OdevityJobShardingStrategyTest: "1" hashes to 49 (odd), "0" to 48 (even).
  it('keeps membership order for a job whose hash is odd', () => {
    expect(itemsOf(odevityStrategy({ job: '1', shards: 2, workers }), ids)).toEqual([[0], [1], []]);
  });

  it('reverses membership order for a job whose hash is even', () => {
    expect(itemsOf(odevityStrategy({ job: '0', shards: 2, workers }), ids)).toEqual([[], [1], [0]]);
  });

  it('is average over the reversed list: "hello" (even) with 8 items', () => {
    expect(javaHashCode('hello') % 2).toBe(0);
    expect(itemsOf(odevityStrategy({ job: 'hello', shards: 8, workers }), ids)).toEqual([[4, 5], [2, 3, 7], [0, 1, 6]]);
  });

  it('is average over the given list: "sync-orders" (odd) with 10 items', () => {
    expect(itemsOf(odevityStrategy({ job: 'sync-orders', shards: 10, workers }), ids)).toEqual([
      [0, 1, 2, 9],
      [3, 4, 5],
      [6, 7, 8],
    ]);
  });

  it('treats the negative even hash of "polygenelubricants" (Integer.MIN_VALUE) as even', () => {
    expect(itemsOf(odevityStrategy({ job: 'polygenelubricants', shards: 2, workers }), ids)).toEqual([[], [1], [0]]);
  });

  it('honours pins and returns all null without workers', () => {
    const owners = odevityStrategy({ job: '0', shards: 3, workers, pins: { 2: 'host0' } });
    expect(itemsOf(owners, ids)).toEqual([[2], [1], [0]]);
    expect(odevityStrategy({ job: '0', shards: 2, workers: [] })).toEqual([null, null]);
  });

  it('equals average over the (reversed when even) worker list, on random inputs', () => {
    const rng = prng(21);
    for (let run = 0; run < 300; run++) {
      const input = deepFreeze(randomInput(rng));
      const order = javaHashCode(input.job) % 2 === 0 ? [...input.workers].reverse() : input.workers;
      expect(odevityStrategy(input)).toEqual(averageStrategy({ ...input, workers: order }));
    }
  });
});
