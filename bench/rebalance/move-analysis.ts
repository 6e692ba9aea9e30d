import type { JobDefinition } from '../../src/config/job-definition.js';
import type { WorkerSlot } from '../../src/sharding/allocation-input.js';
import { minimumMoves } from '../../src/sharding/minimum-moves.js';
import type { AssignmentSnapshot } from './assignment-observer.js';

/** An item whose owner (member name) changed. */
export interface MovedItem {
  job: string;
  item: number;
  from: string | null;
  to: string | null;
}

/** Every item whose owner differs between two snapshots, over all jobs. */
export function movedItems(before: AssignmentSnapshot, after: AssignmentSnapshot): MovedItem[] {
  const moved: MovedItem[] = [];
  for (const [job, owners] of after) {
    const previous = before.get(job) ?? [];
    owners.forEach((to, item) => {
      const from = previous[item] ?? null;
      if (from !== to) moved.push({ job, item, from, to });
    });
  }
  return moved;
}

/**
 * Fewest owner changes any balanced assignment needs, over all jobs: the items whose owner is no
 * longer eligible (they must move) plus `minimumMoves` (moves among the eligible workers).
 * `eligible` is in membership order, as the leader sees it.
 */
export function requiredMoves(before: AssignmentSnapshot, defs: readonly JobDefinition[], eligible: readonly WorkerSlot[]): number {
  const live = new Set(eligible.map((w) => w.id));
  let required = 0;
  for (const def of defs) {
    const previous = before.get(def.name) ?? [];
    required += previous.filter((o) => typeof o === 'string' && !live.has(o)).length;
    required += minimumMoves({ job: def.name, shards: def.shards, workers: eligible, previous });
  }
  return required;
}

/** Fewest and most items a worker owns, over all jobs together. */
export function loadSpread(snapshot: AssignmentSnapshot): { min: number; max: number } {
  const load = new Map<string, number>();
  for (const owners of snapshot.values()) for (const o of owners) if (o !== null) load.set(o, (load.get(o) ?? 0) + 1);
  const values = [...load.values()];
  return values.length === 0 ? { min: 0, max: 0 } : { min: Math.min(...values), max: Math.max(...values) };
}
