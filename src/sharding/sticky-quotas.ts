/** Snapping tolerance for shares computed in floating point (non-integer capacities). */
const EPSILON = 1e-9;

/** How many items each worker may and will own under `sticky` (internal to `src/sharding`). */
export interface StickyQuotas {
  /** Fewest items the balance rule allows per worker (pins included). */
  lower: Int32Array;
  /** Most items the balance rule allows per worker; `upper - lower` is 0 or 1. */
  upper: Int32Array;
  /** Chosen count per worker, `lower` or `upper`; sums to `shards`. */
  counts: Int32Array;
}

/** `[floor, fraction]` of `items * cap / total`; exact when `exact` (integer capacities). */
function splitShare(items: number, cap: number, total: number, exact: boolean): [number, number] {
  if (exact) {
    const a = items * cap;
    let whole = Math.floor(a / total);
    if (whole * total > a) whole -= 1;
    else if ((whole + 1) * total <= a) whole += 1;
    return [whole, (a - whole * total) / total];
  }
  const share = (items * cap) / total;
  const whole = Math.floor(share);
  const fraction = share - whole;
  if (fraction > 1 - EPSILON) return [whole + 1, 0];
  return [whole, fraction < EPSILON ? 0 : fraction];
}

/**
 * The balance rule of `sticky`. Exact share `s_w = N * cap_w / Σcap`; a worker owns
 * `floor(s_w)` or `ceil(s_w)` items, and never fewer than its pins (`P_w`): bounds
 * `[max(floor(s_w), P_w), max(ceil(s_w), P_w)]`. Pins above a worker's share are paid for out of
 * the `+1` slots of the others. When that is not enough (`Σ max(floor(s_w), P_w) > N`), every
 * worker pinned beyond its exact share (`P_w > s_w`) gets exactly `P_w`, and the remaining items
 * are shared the same way over the other workers by capacity (repeated until it fits).
 *
 * The `N - Σlower` extra items go one each to the workers with `upper > lower`, ranked by
 * (a) holding more than `lower` now (`held`: pins + previously owned unpinned items), so they
 * keep an item instead of moving it, (b) larger fractional share, (c) membership order.
 * Deterministic; O(n log n) per level. Shares are exact for integer capacities; otherwise they
 * are computed in floating point and snapped to an integer within 1e-9.
 */
export function stickyQuotas(
  shards: number,
  capacities: readonly number[],
  pinCount: Int32Array,
  held: Int32Array,
): StickyQuotas {
  const n = capacities.length;
  const lower = new Int32Array(n);
  const upper = new Int32Array(n);
  const whole = new Int32Array(n);
  const fraction = new Float64Array(n);
  let active = capacities.map((_, j) => j);
  let items = shards;
  let sumLower = 0;
  for (;;) {
    let total = 0;
    for (const j of active) total += capacities[j]!;
    const exact = active.every((j) => Number.isSafeInteger(capacities[j])) && items * total <= Number.MAX_SAFE_INTEGER;
    sumLower = 0;
    for (const j of active) {
      const [w, f] = splitShare(items, capacities[j]!, total, exact);
      whole[j] = w;
      fraction[j] = f;
      lower[j] = Math.max(w, pinCount[j]!);
      upper[j] = Math.max(f > 0 ? w + 1 : w, pinCount[j]!);
      sumLower += lower[j]!;
    }
    if (sumLower <= items) break;
    // Pins do not fit: fix the workers pinned beyond their exact share (P > floor(s) <=> P > s).
    const rest = active.filter((j) => pinCount[j]! <= whole[j]!);
    if (rest.length === active.length) break; // unreachable in exact arithmetic
    for (const j of active) if (pinCount[j]! > whole[j]!) items -= pinCount[j]!;
    active = rest;
  }

  const counts = Int32Array.from(lower);
  const candidates = active.filter((j) => upper[j]! > lower[j]!);
  const rank = (j: number): number => (held[j]! > lower[j]! ? 0 : 1);
  candidates.sort((a, b) => rank(a) - rank(b) || fraction[b]! - fraction[a]! || a - b);
  const extra = Math.min(items - sumLower, candidates.length);
  for (let k = 0; k < extra; k++) counts[candidates[k]!]! += 1;
  return { lower, upper, counts };
}
