import { allocate } from '../../src/sharding/allocate.js';
import { countMoves } from '../../src/sharding/count-moves.js';
import { minimumMoves } from '../../src/sharding/minimum-moves.js';
import type { Allocation, AllocationInput, WorkerSlot } from '../../src/sharding/allocation-input.js';
import { summarize, type Summary } from '../lib/stats.js';

/** Which allocation is timed: from nothing, or a re-allocation after a leave or a join. */
export type AllocationCase = 'fresh' | 'leave' | 'join';

/** Timings of one `allocate('sticky', …)` case. */
export interface AllocationTiming {
  case: AllocationCase;
  items: number;
  /** Workers before the change (equal to `workersAfter` for `fresh`). */
  workersBefore: number;
  workersAfter: number;
  /** Duration of one call, ms. */
  durationMs: Summary;
  /** Items whose owner changed (the leaver's items included). */
  changed: number;
  /** Fewest changes possible: items of departed owners plus `minimumMoves`. */
  required: number;
  /** Fewest and most items per worker in the result. */
  minLoad: number;
  maxLoad: number;
}

export interface AllocationTimingOptions {
  items: number;
  workers: number;
  /** Untimed calls first (JIT warm-up). */
  warmup: number;
  repeats: number;
  signal?: AbortSignal;
}

const slots = (n: number, from: number): WorkerSlot[] =>
  Array.from({ length: n }, (_, k) => ({ id: `m-bench-${String(from + k).padStart(10, '0')}`, capacity: 1 }));

/**
 * Times the pure sticky allocation of `items` items over `workers` workers: fresh, then after the
 * middle worker leaves, then after one more joins (both from the fresh allocation); checks the
 * changes against the minimum.
 */
export function timeAllocations(opts: AllocationTimingOptions): AllocationTiming[] {
  const workers = slots(opts.workers, 1);
  const fresh: AllocationInput = { job: 'bench', shards: opts.items, workers };
  const base = allocate('sticky', fresh);
  const leave: AllocationInput = { ...fresh, workers: workers.filter((_, k) => k !== Math.floor(opts.workers / 2)), previous: base };
  const join: AllocationInput = { ...fresh, workers: [...workers, ...slots(1, opts.workers + 1)], previous: base };
  return [timeCase('fresh', fresh, opts), timeCase('leave', leave, opts), timeCase('join', join, opts)];
}

function timeCase(kind: AllocationCase, input: AllocationInput, opts: AllocationTimingOptions): AllocationTiming {
  let out: Allocation = [];
  for (let k = 0; k < opts.warmup; k++) out = allocate('sticky', input);
  const durations: number[] = [];
  for (let k = 0; k < opts.repeats; k++) {
    opts.signal?.throwIfAborted();
    const t0 = performance.now();
    out = allocate('sticky', input);
    durations.push(performance.now() - t0);
  }
  const previous = input.previous ?? [];
  const live = new Set(input.workers.map((w) => w.id));
  const orphaned = previous.filter((p) => typeof p === 'string' && !live.has(p)).length;
  const loads = new Map<string, number>(input.workers.map((w) => [w.id, 0]));
  for (const owner of out) if (owner !== null) loads.set(owner, (loads.get(owner) ?? 0) + 1);
  return {
    case: kind,
    items: input.shards,
    workersBefore: kind === 'fresh' ? input.workers.length : new Set(previous).size,
    workersAfter: input.workers.length,
    durationMs: summarize(durations),
    changed: countMoves(previous, out),
    required: orphaned + minimumMoves(input),
    minLoad: Math.min(...loads.values()),
    maxLoad: Math.max(...loads.values()),
  };
}
