// Independent reference of the sticky balance rule, written for the tests (integer capacities).
import { countMoves, type Allocation, type AllocationInput } from '../../src/sharding/index.js';
import { effectivePins } from './support.js';

export interface Bounds {
  lower: Map<string, number>;
  upper: Map<string, number>;
}

function pinCounts(input: AllocationInput): Map<string, number> {
  const counts = new Map<string, number>(input.workers.map((w) => [w.id, 0]));
  for (const id of effectivePins(input).values()) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/**
 * Allowed item counts per worker, as documented: floor/ceil of `N * cap / Σcap`, at least the
 * pins; when `Σ max(floor, pins) > N`, workers pinned beyond their exact share get exactly their
 * pins and the remaining items are shared over the others (repeatedly).
 */
export function referenceBounds(input: AllocationInput): Bounds {
  const pins = pinCounts(input);
  const lower = new Map<string, number>();
  const upper = new Map<string, number>();
  let active = [...input.workers];
  let items = input.shards;
  for (;;) {
    const total = active.reduce((sum, w) => sum + w.capacity, 0);
    const lo = (w: { id: string; capacity: number }): number =>
      Math.max(Math.floor((items * w.capacity) / total), pins.get(w.id)!);
    const hi = (w: { id: string; capacity: number }): number =>
      Math.max(Math.ceil((items * w.capacity) / total), pins.get(w.id)!);
    if (active.reduce((sum, w) => sum + lo(w), 0) <= items) {
      for (const w of active) {
        lower.set(w.id, lo(w));
        upper.set(w.id, hi(w));
      }
      return { lower, upper };
    }
    const over = active.filter((w) => pins.get(w.id)! * total > items * w.capacity);
    for (const w of over) {
      lower.set(w.id, pins.get(w.id)!);
      upper.set(w.id, pins.get(w.id)!);
      items -= pins.get(w.id)!;
    }
    active = active.filter((w) => !over.includes(w));
  }
}

/** Fewest moves within `referenceBounds`, by formula. */
export function referenceMinimumMoves(input: AllocationInput): number {
  const ids = new Set(input.workers.map((w) => w.id));
  const pins = effectivePins(input);
  const held = pinCounts(input);
  let forced = 0;
  for (let i = 0; i < input.shards; i++) {
    const prev = input.previous?.[i];
    if (typeof prev !== 'string' || !ids.has(prev)) continue;
    const pin = pins.get(i);
    if (pin === undefined) held.set(prev, held.get(prev)! + 1);
    else if (pin !== prev) forced++;
  }
  const { lower, upper } = referenceBounds(input);
  let slots = input.shards;
  let excess = 0;
  let contenders = 0;
  for (const w of input.workers) {
    const h = held.get(w.id)!;
    slots -= lower.get(w.id)!;
    excess += Math.max(0, h - upper.get(w.id)!);
    if (upper.get(w.id)! > lower.get(w.id)! && h > lower.get(w.id)!) contenders++;
  }
  return forced + excess + Math.max(0, contenders - slots);
}

/** Fewest moves within `referenceBounds`, by trying every allocation (tiny inputs only). */
export function bruteForceMinimumMoves(input: AllocationInput): number {
  const { lower, upper } = referenceBounds(input);
  const pins = effectivePins(input);
  const ids = input.workers.map((w) => w.id);
  const owners: Allocation = new Array<string | null>(input.shards).fill(null);
  let best = Infinity;
  const visit = (i: number): void => {
    if (i === input.shards) {
      const ok = ids.every((id) => {
        const c = owners.filter((o) => o === id).length;
        return c >= lower.get(id)! && c <= upper.get(id)!;
      });
      if (ok) best = Math.min(best, countMoves(input.previous ?? [], owners, input.workers));
      return;
    }
    for (const id of pins.has(i) ? [pins.get(i)!] : ids) {
      owners[i] = id;
      visit(i + 1);
    }
  };
  visit(0);
  return best;
}
