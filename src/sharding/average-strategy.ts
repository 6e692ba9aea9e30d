import type { Allocation, AllocationInput } from './allocation-input.js';
import { prepareInput } from './prepared-input.js';
import { spreadAverage } from './spread-average.js';

/**
 * `average`: ElasticJob's AVG_ALLOCATION over `workers` in membership order. Ignores `previous`
 * and capacities. With N items and n workers, worker j gets `[j*q, (j+1)*q)` (q = floor(N/n)),
 * and the first N % n workers one more each, item `q*n + j`. 3 workers, 8 items:
 * `[0,1,6] [2,3,7] [4,5]`. Pinned items go to their worker; the rest are spread as if they
 * were the only items (in ascending order). All owners are null when `workers` is empty.
 * @throws ZkshardError `ALLOCATION_INVALID` for invalid input.
 */
export function averageStrategy(input: AllocationInput): Allocation {
  const prepared = prepareInput(input);
  return spreadAverage(prepared, prepared.ids.map((_, j) => j));
}
