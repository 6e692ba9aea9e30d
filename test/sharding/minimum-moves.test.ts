import { describe, it, expect } from 'vitest';
import { minimumMoves } from '../../src/sharding/minimum-moves.js';
import { ZkshardError } from '../../src/errors/zkshard-error.js';

const equal = (...ids: string[]) => ids.map((id) => ({ id, capacity: 1 }));

describe('minimumMoves', () => {
  it('is 0 for a balanced allocation and without workers', () => {
    expect(minimumMoves({ job: 'j', shards: 4, workers: equal('a', 'b'), previous: ['a', 'b', 'a', 'b'] })).toBe(0);
    expect(minimumMoves({ job: 'j', shards: 4, workers: [], previous: ['a', 'b', 'a', 'b'] })).toBe(0);
  });

  it('counts the items above each surviving worker’s ceiling quota', () => {
    // Shares 2 each: a holds 4.
    const previous = ['a', 'a', 'a', 'a', 'b'];
    expect(minimumMoves({ job: 'j', shards: 6, workers: equal('a', 'b', 'c'), previous })).toBe(2);
  });

  it('does not count items of departed or ineligible owners', () => {
    const previous = ['gone', 'gone', 'gone', 'a', 'b'];
    expect(minimumMoves({ job: 'j', shards: 5, workers: equal('a', 'b'), previous })).toBe(0);
  });

  it('counts workers that must give up an extra item when there are fewer extra slots than holders', () => {
    // Shares 1.33: a and b both hold 2, only one can keep 2.
    const previous = ['a', 'a', 'b', 'b'];
    expect(minimumMoves({ job: 'j', shards: 4, workers: equal('a', 'b', 'c'), previous })).toBe(1);
  });

  it('counts pinned items taken from another live worker, and what that worker must then shed', () => {
    // Item 0 goes to b (pin); b then holds 3 of its quota 2 and gives one up.
    const previous = ['a', 'a', 'b', 'b'];
    expect(minimumMoves({ job: 'j', shards: 4, workers: equal('a', 'b'), previous, pins: { 0: 'b' } })).toBe(2);
    // Items 2 and 3 are pinned to b, away from the live a and c.
    const pins = { 0: 'a', 1: 'a', 2: 'b', 3: 'b' };
    const input = { job: 'j', shards: 4, workers: equal('a', 'b', 'c'), previous: ['a', 'a', 'a', 'c'], pins };
    expect(minimumMoves(input)).toBe(2);
  });

  it('validates its input', () => {
    expect(() => minimumMoves({ job: 'j', shards: 0, workers: [] })).toThrow(ZkshardError);
  });
});
