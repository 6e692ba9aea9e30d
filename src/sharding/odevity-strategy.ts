import type { Allocation, AllocationInput } from './allocation-input.js';
import { javaHashCode } from './java-hash-code.js';
import { prepareInput } from './prepared-input.js';
import { spreadAverage } from './spread-average.js';

/**
 * `odevity`: ElasticJob's ODEVITY_ALLOCATION. When the Java `String.hashCode()` of the job name
 * is even, the worker list is reversed; then it is `average` (pins included, capacities and
 * `previous` ignored). Spreads small jobs over different workers depending on their name.
 * @throws ZkshardError `ALLOCATION_INVALID` for invalid input.
 */
export function odevityStrategy(input: AllocationInput): Allocation {
  const prepared = prepareInput(input);
  const order = prepared.ids.map((_, j) => j);
  if (javaHashCode(input.job) % 2 === 0) order.reverse();
  return spreadAverage(prepared, order);
}
