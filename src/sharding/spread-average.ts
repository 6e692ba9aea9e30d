import type { Allocation } from './allocation-input.js';
import type { PreparedInput } from './prepared-input.js';

/**
 * ElasticJob's AVG_ALLOCATION over the unpinned items (internal to `src/sharding`).
 * Pinned items go to their pinned worker. The unpinned items, in ascending order, are the list
 * `u[0..M-1]`; with `n = order.length`, `q = floor(M / n)`, `r = M % n`, the worker at position
 * `k` of `order` gets `u[k*q .. (k+1)*q-1]`, and the first `r` workers of `order` get one more,
 * `u[q*n + k]`. Without pins `u[x] = x`, i.e. exactly ElasticJob's layout.
 * `order` lists worker indexes (a permutation of all of them); every owner is null when it is empty.
 */
export function spreadAverage(prepared: PreparedInput, order: readonly number[]): Allocation {
  const { shards, ids, pinnedTo } = prepared;
  const owners: Allocation = new Array<string | null>(shards).fill(null);
  const n = order.length;
  if (n === 0) return owners;

  const unpinned: number[] = [];
  for (let i = 0; i < shards; i++) {
    const pin = pinnedTo[i]!;
    if (pin >= 0) owners[i] = ids[pin]!;
    else unpinned.push(i);
  }
  const m = unpinned.length;
  const q = Math.floor(m / n);
  for (let k = 0; k < n; k++) {
    const id = ids[order[k]!]!;
    for (let x = k * q; x < (k + 1) * q; x++) owners[unpinned[x]!] = id;
  }
  for (let k = 0; k < m % n; k++) owners[unpinned[q * n + k]!] = ids[order[k]!]!;
  return owners;
}
