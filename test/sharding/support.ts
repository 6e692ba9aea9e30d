// Helpers shared by the sharding tests (not a test file itself).
import type { Allocation, AllocationInput, WorkerSlot } from '../../src/sharding/index.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
}

/** Small seeded PRNG (mulberry32): same seed → same sequence. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, pick };
}

/** Member id with a 10-digit sequence, like ZooKeeper's sequential nodes. */
export function memberId(seq: number): string {
  return `m-${String(seq).padStart(10, '0')}`;
}

/** Workers with capacity 1 (or the given capacities), ids `m-0000000000`, `m-0000000001`, ... */
export function workersOf(count: number, capacities: readonly number[] = []): WorkerSlot[] {
  return Array.from({ length: count }, (_, j) => ({ id: memberId(j), capacity: capacities[j] ?? 1 }));
}

/** Items per owner, ascending, in the order of `ids`: `[[0,1,2],[3,4,5],...]`. */
export function itemsOf(owners: Allocation, ids: readonly string[]): number[][] {
  return ids.map((id) => owners.flatMap((o, i) => (o === id ? [i] : [])));
}

/** Builds an allocation from items per owner, as `itemsOf` returns them. */
export function fromItems(groups: Readonly<Record<string, readonly number[]>>, shards: number): (string | null)[] {
  const owners: (string | null)[] = new Array<string | null>(shards).fill(null);
  for (const [id, items] of Object.entries(groups)) for (const i of items) owners[i] = id;
  return owners;
}

/** Count of items per worker id. */
export function countsOf(owners: Allocation, ids: readonly string[]): number[] {
  return itemsOf(owners, ids).map((xs) => xs.length);
}

/** Freezes an input deeply so that any mutation by a strategy throws. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface RandomOptions {
  maxShards?: number;
  maxWorkers?: number;
  /** Probability of a `previous` array at all. @default 0.8 */
  previous?: number;
  /** Most pins (some of which are ineligible or out of range). @default 6 */
  maxPins?: number;
  maxCapacity?: number;
}

/**
 * Random input: shards 1..300, 0..12 workers picked from 16 member ids (membership order kept),
 * capacities 1..4, previous owners (mostly eligible and skewed towards the first workers, so
 * that items must move; also departed ids, nulls and undefined), pins (often piled onto one
 * worker so that they exceed its share; also to departed workers and out-of-range items).
 */
export function randomInput(rng: Rng, options: RandomOptions = {}): AllocationInput {
  const shards = rng.int(1, options.maxShards ?? 300);
  const pool = Array.from({ length: 16 }, (_, k) => memberId(k));
  const wanted = rng.int(0, options.maxWorkers ?? 12);
  const chosen = new Set<string>();
  while (chosen.size < wanted) chosen.add(rng.pick(pool));
  const workers = pool
    .filter((id) => chosen.has(id))
    .map((id) => ({ id, capacity: rng.int(1, options.maxCapacity ?? 4) }));
  const others = [...pool.filter((id) => !chosen.has(id)), 'gone-1', 'gone-2'];
  const skew = 1 + rng.next() * 3;
  const eligible = (): string => workers[Math.floor(workers.length * rng.next() ** skew)]!.id;
  const someOwner = (pEligible: number): string =>
    workers.length > 0 && rng.next() < pEligible ? eligible() : rng.pick(others);

  const input: AllocationInput = { job: `job-${rng.int(0, 999)}`, shards, workers };
  if (rng.next() < (options.previous ?? 0.8)) {
    const length = rng.int(0, shards + 10);
    const holes = rng.next() * 0.5;
    const pEligible = rng.next();
    input.previous = Array.from({ length }, () => {
      if (rng.next() < holes) return rng.next() < 0.5 ? null : undefined;
      return someOwner(pEligible);
    });
  }
  const pinCount = rng.int(0, options.maxPins ?? 6);
  if (pinCount > 0) {
    const pins: Record<number, string> = {};
    const favourite = workers.length > 0 && rng.next() < 0.5 ? eligible() : undefined;
    for (let k = 0; k < pinCount; k++) {
      pins[rng.int(0, Math.max(shards - 1, Math.floor(shards * 1.1)))] = favourite ?? someOwner(0.8);
    }
    input.pins = pins;
  }
  return input;
}

/** Pins that apply: item in range, target eligible. */
export function effectivePins(input: AllocationInput): Map<number, string> {
  const ids = new Set(input.workers.map((w) => w.id));
  const pins = new Map<number, string>();
  for (const [key, id] of Object.entries(input.pins ?? {})) {
    const item = Number(key);
    if (Number.isInteger(item) && item >= 0 && item < input.shards && ids.has(id)) pins.set(item, id);
  }
  return pins;
}
