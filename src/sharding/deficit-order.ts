/**
 * The order in which workers receive items when each next item goes to the worker with the
 * largest remaining deficit, ties broken by the lower worker index (membership order), and the
 * deficit of the receiver drops by one (internal to `src/sharding`).
 *
 * Returns the receivers, one entry per item (`Σ max(0, deficits[j])` entries). Computed level by
 * level instead of with a heap: at level L (from the largest deficit down to 1) exactly the
 * workers whose deficit was >= L receive one item each, in index order. O(total + n²) worst case,
 * O(total + n) typical.
 */
export function deficitOrder(deficits: ArrayLike<number>): Int32Array {
  const n = deficits.length;
  const byDeficit: number[] = [];
  let total = 0;
  for (let j = 0; j < n; j++) {
    const d = deficits[j]!;
    if (d > 0) {
      byDeficit.push(j);
      total += d;
    }
  }
  byDeficit.sort((a, b) => deficits[b]! - deficits[a]! || a - b);

  const order = new Int32Array(total);
  const receivers: number[] = []; // workers with deficit >= level, in index order
  let next = 0; // first worker of byDeficit not yet in receivers
  let k = 0;
  for (let level = byDeficit.length > 0 ? deficits[byDeficit[0]!]! : 0; level >= 1; level--) {
    while (next < byDeficit.length && deficits[byDeficit[next]!]! >= level) {
      const j = byDeficit[next++]!;
      let at = receivers.length;
      while (at > 0 && receivers[at - 1]! > j) at--;
      receivers.splice(at, 0, j);
    }
    for (let r = 0; r < receivers.length; r++) order[k++] = receivers[r]!;
  }
  return order;
}
