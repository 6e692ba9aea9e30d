import { ZkshardError } from '../errors/zkshard-error.js';
import type { AllocationInput } from './allocation-input.js';

/** Error code of every invalid `AllocationInput`. */
export const ALLOCATION_INVALID = 'ALLOCATION_INVALID';

/** Canonical decimal item number, as a pin key: `0`, `7`, `123` (not `07`, `1.0`, ``). */
const ITEM_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Validated, index-based view of an `AllocationInput` (internal to `src/sharding`).
 * Workers are referred to by their index in `input.workers`; `-1` means "none".
 */
export interface PreparedInput {
  shards: number;
  ids: readonly string[];
  capacities: readonly number[];
  /** `pinnedTo[item]`: index of the eligible worker the item is pinned to, or -1. */
  pinnedTo: Int32Array;
  /** Number of effective pins per worker. */
  pinCount: Int32Array;
  /** `previousOwner[item]`: index of the item's previous owner if eligible, else -1. Set for pinned items too. */
  previousOwner: Int32Array;
  /** Per worker: its pins plus the unpinned items it owned before (what it could keep). */
  held: Int32Array;
}

function invalid(message: string): never {
  throw new ZkshardError(ALLOCATION_INVALID, message);
}

/**
 * Validates `input` and builds its index-based view. O(shards + workers + pins); reads only.
 * @throws ZkshardError `ALLOCATION_INVALID` when `shards` is not an integer >= 1, a worker id is
 *   not a non-empty string or is duplicated, or a capacity is not a finite number > 0.
 */
export function prepareInput(input: AllocationInput): PreparedInput {
  const { shards, workers } = input;
  if (typeof shards !== 'number' || !Number.isSafeInteger(shards) || shards < 1) {
    invalid(`shards must be an integer >= 1 (got: ${String(shards)})`);
  }
  const indexOf = new Map<string, number>();
  const ids: string[] = [];
  const capacities: number[] = [];
  for (const [j, w] of workers.entries()) {
    if (typeof w.id !== 'string' || w.id === '') {
      invalid(`workers[${j}].id must be a non-empty string (got: ${JSON.stringify(w.id)})`);
    }
    if (indexOf.has(w.id)) invalid(`duplicate worker id "${w.id}"`);
    if (typeof w.capacity !== 'number' || !Number.isFinite(w.capacity) || w.capacity <= 0) {
      invalid(`worker "${w.id}": capacity must be a finite number > 0 (got: ${String(w.capacity)})`);
    }
    indexOf.set(w.id, j);
    ids.push(w.id);
    capacities.push(w.capacity);
  }

  const pinnedTo = new Int32Array(shards).fill(-1);
  const pinCount = new Int32Array(workers.length);
  for (const [key, id] of Object.entries(input.pins ?? {})) {
    const item = ITEM_KEY.test(key) ? Number(key) : -1;
    const j = typeof id === 'string' ? indexOf.get(id) : undefined;
    if (item < 0 || item >= shards || j === undefined) continue;
    pinnedTo[item] = j;
    pinCount[j]! += 1;
  }

  const previousOwner = new Int32Array(shards).fill(-1);
  const held = Int32Array.from(pinCount);
  const previous = input.previous ?? [];
  const end = Math.min(shards, previous.length);
  for (let i = 0; i < end; i++) {
    const p = previous[i];
    if (typeof p !== 'string') continue;
    const j = indexOf.get(p);
    if (j === undefined) continue;
    previousOwner[i] = j;
    if (pinnedTo[i]! < 0) held[j]! += 1;
  }
  return { shards, ids, capacities, pinnedTo, pinCount, previousOwner, held };
}
