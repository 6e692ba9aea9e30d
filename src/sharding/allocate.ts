import { SHARDING_STRATEGIES, type ShardingStrategyName } from '../config/job-definition.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { Allocation, AllocationInput, AllocationStrategy } from './allocation-input.js';
import { averageStrategy } from './average-strategy.js';
import { odevityStrategy } from './odevity-strategy.js';
import { ALLOCATION_INVALID } from './prepared-input.js';
import { roundRobinStrategy } from './round-robin-strategy.js';
import { stickyStrategy } from './sticky-strategy.js';

const STRATEGIES: Readonly<Record<ShardingStrategyName, AllocationStrategy>> = {
  sticky: stickyStrategy,
  average: averageStrategy,
  odevity: odevityStrategy,
  'round-robin': roundRobinStrategy,
};

/**
 * Spreads `input.shards` items over `input.workers` with the named strategy. Pure and
 * deterministic: no I/O, same input → same output, input never mutated. The result has
 * `length === shards`; every item has one owner from `workers` (pins honoured), or all are null
 * when `workers` is empty.
 * @throws ZkshardError `ALLOCATION_INVALID` for an unknown strategy or invalid input
 *   (shards not an integer >= 1, capacity not finite > 0, duplicate or empty worker id).
 */
export function allocate(strategy: ShardingStrategyName, input: AllocationInput): Allocation {
  const fn = Object.hasOwn(STRATEGIES, strategy) ? STRATEGIES[strategy] : undefined;
  if (fn === undefined) {
    throw new ZkshardError(
      ALLOCATION_INVALID,
      `unknown sharding strategy "${String(strategy)}" (expected one of: ${SHARDING_STRATEGIES.join(', ')})`,
    );
  }
  return fn(input);
}
