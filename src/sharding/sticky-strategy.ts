import type { Allocation, AllocationInput } from './allocation-input.js';
import { deficitOrder } from './deficit-order.js';
import { prepareInput } from './prepared-input.js';
import { stickyQuotas } from './sticky-quotas.js';

/**
 * `sticky` (the default): keeps current owners and moves the fewest items needed to reach a
 * weighted balance.
 *
 * 1. Pinned items go to their (eligible) pinned worker and count towards its quota.
 * 2. Quotas: each worker gets `floor` or `ceil` of its exact share `N * cap / Σcap`, at least
 *    its pins; the `+1` slots go first to workers that hold more than their floor (see
 *    `stickyQuotas` for the ranking and for pins that exceed a worker's share).
 * 3. Each worker keeps its previously owned items up to its quota, the lowest item numbers first.
 * 4. Every other item (unowned, owned by a departed or ineligible worker, or shed), in ascending
 *    order, goes to the worker with the largest remaining deficit, ties by membership order.
 *
 * Invariants: every item has exactly one eligible owner (all null iff `workers` is empty); pins
 * are honoured; `countMoves(previous, result, workers) === minimumMoves(input)`; with equal
 * capacities and no pins, counts differ by at most one. Deterministic, input never mutated,
 * O(N + n²).
 * @throws ZkshardError `ALLOCATION_INVALID` for invalid input.
 */
export function stickyStrategy(input: AllocationInput): Allocation {
  const prepared = prepareInput(input);
  const { shards, ids, pinnedTo, pinCount, previousOwner } = prepared;
  const owners: Allocation = new Array<string | null>(shards).fill(null);
  if (ids.length === 0) return owners;

  const { counts } = stickyQuotas(shards, prepared.capacities, pinCount, prepared.held);
  const assigned = Int32Array.from(pinCount);
  const pool: number[] = [];
  for (let i = 0; i < shards; i++) {
    const pin = pinnedTo[i]!;
    const prev = previousOwner[i]!;
    if (pin >= 0) {
      owners[i] = ids[pin]!;
    } else if (prev >= 0 && assigned[prev]! < counts[prev]!) {
      owners[i] = ids[prev]!;
      assigned[prev]! += 1;
    } else {
      pool.push(i);
    }
  }

  const receivers = deficitOrder(counts.map((c, j) => c - assigned[j]!));
  if (receivers.length < pool.length) throw new Error('sticky allocation: quotas do not cover every item (bug)');
  for (let k = 0; k < pool.length; k++) owners[pool[k]!] = ids[receivers[k]!]!;
  return owners;
}
