import type { AllocationInput } from './allocation-input.js';
import { prepareInput } from './prepared-input.js';
import { stickyQuotas } from './sticky-quotas.js';

/**
 * Fewest moves any balanced allocation of `input` needs (balanced as `sticky` defines it:
 * `floor`/`ceil` of the weighted share, pins honoured). Items whose previous owner is gone or not
 * eligible are not counted (reassignments, not moves). The sum of:
 * - pinned items previously owned by another eligible worker;
 * - per surviving worker, the items it holds (pins + previous unpinned items) above its ceiling
 *   quota;
 * - workers that hold one item more than their floor quota but cannot all get a `+1` slot
 *   (more such workers than slots): each must give one item up. Without this term the bound
 *   would not be reachable, e.g. 3 workers holding 2, 2, 0 of 4 items need one move.
 * `sticky` reaches it exactly: `countMoves(previous, stickyStrategy(input), workers)`.
 * 0 when `workers` is empty.
 * @throws ZkshardError `ALLOCATION_INVALID` for invalid input.
 */
export function minimumMoves(input: AllocationInput): number {
  const prepared = prepareInput(input);
  const { shards, pinnedTo, previousOwner, pinCount } = prepared;
  if (prepared.ids.length === 0) return 0;

  let forced = 0;
  for (let i = 0; i < shards; i++) {
    const pin = pinnedTo[i]!;
    const prev = previousOwner[i]!;
    if (pin >= 0 && prev >= 0 && prev !== pin) forced++;
  }
  const { held } = prepared;
  const { lower, upper } = stickyQuotas(shards, prepared.capacities, pinCount, held);
  let extra = shards;
  let excess = 0;
  let contenders = 0;
  for (let j = 0; j < held.length; j++) {
    extra -= lower[j]!;
    excess += Math.max(0, held[j]! - upper[j]!);
    if (upper[j]! > lower[j]! && held[j]! > lower[j]!) contenders++;
  }
  return forced + excess + Math.max(0, contenders - extra);
}
