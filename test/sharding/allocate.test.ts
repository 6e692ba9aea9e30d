import { describe, it, expect } from 'vitest';
import { ZkshardError } from '../../src/errors/zkshard-error.js';
import { SHARDING_STRATEGIES, type ShardingStrategyName } from '../../src/config/job-definition.js';
import {
  allocate,
  averageStrategy,
  odevityStrategy,
  roundRobinStrategy,
  stickyStrategy,
  type AllocationInput,
} from '../../src/sharding/index.js';
import { deepFreeze, effectivePins, prng, randomInput } from './support.js';

const workers = [{ id: 'a', capacity: 1 }, { id: 'b', capacity: 2 }, { id: 'c', capacity: 1 }];

function invalidCode(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ZkshardError);
    return { code: (e as ZkshardError).code, message: (e as Error).message };
  }
  throw new Error('expected a ZkshardError');
}

describe('allocate', () => {
  it('dispatches to the named strategy', () => {
    const input = { job: 'hello', shards: 10, workers, previous: ['c', 'c', 'c'] };
    expect(allocate('sticky', input)).toEqual(stickyStrategy(input));
    expect(allocate('average', input)).toEqual(averageStrategy(input));
    expect(allocate('odevity', input)).toEqual(odevityStrategy(input));
    expect(allocate('round-robin', input)).toEqual(roundRobinStrategy(input));
  });

  it('rejects an unknown strategy', () => {
    const err = invalidCode(() => allocate('random' as ShardingStrategyName, { job: 'j', shards: 1, workers }));
    expect(err.code).toBe('ALLOCATION_INVALID');
    expect(err.message).toContain('"random"');
    const inherited = invalidCode(() => allocate('toString' as ShardingStrategyName, { job: 'j', shards: 1, workers }));
    expect(inherited.code).toBe('ALLOCATION_INVALID');
  });

  describe.each(SHARDING_STRATEGIES)('%s rejects invalid input', (strategy) => {
    it.each([
      [0, '0'],
      [-3, '-3'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ])('shards = %s', (shards, shown) => {
      const err = invalidCode(() => allocate(strategy, { job: 'j', shards, workers }));
      expect(err.code).toBe('ALLOCATION_INVALID');
      expect(err.message).toContain(`shards must be an integer >= 1 (got: ${shown})`);
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('capacity = %s', (capacity) => {
      const bad = [{ id: 'a', capacity: 1 }, { id: 'm-7', capacity }];
      const err = invalidCode(() => allocate(strategy, { job: 'j', shards: 3, workers: bad }));
      expect(err.code).toBe('ALLOCATION_INVALID');
      expect(err.message).toContain('worker "m-7"');
      expect(err.message).toContain(`(got: ${String(capacity)})`);
    });

    it('duplicate or empty worker ids', () => {
      const twice = [{ id: 'a', capacity: 1 }, { id: 'a', capacity: 2 }];
      const dup = invalidCode(() => allocate(strategy, { job: 'j', shards: 3, workers: twice }));
      expect(dup).toEqual({ code: 'ALLOCATION_INVALID', message: 'duplicate worker id "a"' });
      const empty = invalidCode(() => allocate(strategy, { job: 'j', shards: 3, workers: [{ id: '', capacity: 1 }] }));
      expect(empty.code).toBe('ALLOCATION_INVALID');
    });

    it('validates even without workers', () => {
      const err = invalidCode(() => allocate(strategy, { job: 'j', shards: 0, workers: [] }));
      expect(err.code).toBe('ALLOCATION_INVALID');
    });
  });

  describe.each(SHARDING_STRATEGIES)('%s on random inputs', (strategy) => {
    it('owns every item exactly once by an eligible worker, honours pins, is deterministic and pure', () => {
      const rng = prng(1000 + SHARDING_STRATEGIES.indexOf(strategy));
      for (let run = 0; run < 300; run++) {
        const input: AllocationInput = randomInput(rng);
        const snapshot = structuredClone(input);
        const owners = allocate(strategy, deepFreeze(input));
        expect(input).toEqual(snapshot);
        expect(allocate(strategy, snapshot)).toEqual(owners);
        expect(owners).toHaveLength(input.shards);
        const ids = new Set(input.workers.map((w) => w.id));
        if (ids.size === 0) expect(owners.every((o) => o === null)).toBe(true);
        else expect(owners.every((o) => o !== null && ids.has(o))).toBe(true);
        for (const [item, id] of effectivePins(input)) expect(owners[item]).toBe(id);
      }
    });
  });
});
