import type { Allocation, WorkerSlot } from './allocation-input.js';

/**
 * Number of items `i < after.length` whose `before[i]` is a (non-null) string different from
 * `after[i]`, i.e. items taken away from their previous owner.
 *
 * With `live` (e.g. `input.workers`), only items whose previous owner is one of those workers
 * count: items of departed or ineligible owners are reassignments, not moves. That is the number
 * `minimumMoves` bounds: `countMoves(previous, allocate('sticky', input), input.workers) ===
 * minimumMoves(input)`.
 */
export function countMoves(
  before: readonly (string | null | undefined)[],
  after: Allocation,
  live?: readonly WorkerSlot[],
): number {
  const liveIds = live === undefined ? undefined : new Set(live.map((w) => w.id));
  const end = Math.min(before.length, after.length);
  let moves = 0;
  for (let i = 0; i < end; i++) {
    const owner = before[i];
    if (typeof owner === 'string' && owner !== after[i] && (liveIds === undefined || liveIds.has(owner))) moves++;
  }
  return moves;
}
