import type { Allocation, AllocationInput } from './allocation-input.js';
import { javaHashCode } from './java-hash-code.js';
import { prepareInput } from './prepared-input.js';
import { spreadAverage } from './spread-average.js';

const INT_MIN = -2147483648;

/**
 * Rotation offset of `round-robin` for a job-name hash over `n` workers (n >= 1), in `0..n-1`.
 * ElasticJob uses `Math.abs(hash) % n`; for `hash === Integer.MIN_VALUE` (e.g. the name
 * `polygenelubricants`) Java's `Math.abs` stays negative and ElasticJob fails with an index out of
 * bounds. For that one value we use the non-negative remainder `((hash % n) + n) % n` instead.
 */
export function roundRobinOffset(hash: number, n: number): number {
  if (hash === INT_MIN) return ((hash % n) + n) % n;
  return Math.abs(hash) % n;
}

/**
 * `round-robin`: ElasticJob's ROUND_ROBIN (rotate-server-by-name) allocation. The worker list is
 * rotated left by `roundRobinOffset(javaHashCode(job), n)` (worker at position k is
 * `workers[(k + offset) % n]`), then it is `average` (pins included, capacities and `previous`
 * ignored).
 * @throws ZkshardError `ALLOCATION_INVALID` for invalid input.
 */
export function roundRobinStrategy(input: AllocationInput): Allocation {
  const prepared = prepareInput(input);
  const n = prepared.ids.length;
  if (n === 0) return spreadAverage(prepared, []);
  const offset = roundRobinOffset(javaHashCode(input.job), n);
  const order = prepared.ids.map((_, k) => (k + offset) % n);
  return spreadAverage(prepared, order);
}
