import type { StoreWrite } from '../chaos-records.js';
import type { CheckResult, Violation } from './violation.js';
import { parseToken } from './compare-tokens.js';
import { formatInstant } from './format-instant.js';

export interface StoreWriteCounts {
  writes: number;
  accepted: number;
  /** Writes the store refused (a larger token had written the key): fencing at work, not a violation. */
  refused: number;
  /** Accepted writes with a smaller token than one accepted before for the key: violations. */
  acceptedStale: number;
  /**
   * Refused writes that no earlier accepted write outranks, recomputed in `at` order: the store
   * log's order differs from `at` order, or the store is wrong the safe way. Not a violation.
   */
  refusedNotStale: number;
}

export interface StoreWriteResult extends CheckResult<StoreWriteCounts> {
  /** The accepted stale writes, one per violation, in the same order. */
  stale: StoreWrite[];
}

/**
 * "The fenced store never let a stale write in": replays the store's writes per key in `at` order
 * (log order among equal `at`) and reports each accepted write whose token is smaller than the
 * largest token accepted earlier for the same key. Pure: no I/O, no clock.
 */
export function checkStoreWrites(writes: readonly StoreWrite[]): StoreWriteResult {
  const counts: StoreWriteCounts = { writes: writes.length, accepted: 0, refused: 0, acceptedStale: 0, refusedNotStale: 0 };
  const violations: Violation[] = [];
  const stale: StoreWrite[] = [];
  const best = new Map<string, { token: bigint; write: StoreWrite }>();
  const ordered = writes.map((w, i) => ({ w, i })).sort((a, b) => a.w.at - b.w.at || a.i - b.i).map((x) => x.w);
  for (const w of ordered) {
    const token = parseToken(w.token);
    const prior = best.get(w.key);
    if (!w.accepted) {
      counts.refused++;
      if (prior === undefined || token >= prior.token) counts.refusedNotStale++;
      continue;
    }
    counts.accepted++;
    if (prior !== undefined && token < prior.token) {
      counts.acceptedStale++;
      stale.push(w);
      violations.push({
        check: 'stale-write',
        at: w.at,
        ...itemOf(w.key),
        pids: [w.pid, prior.write.pid],
        detail:
          `${w.key}: the store accepted token ${w.token} from pid ${w.pid} (${w.worker}, fire ${w.fire} attempt ${w.attempt}) ` +
          `at ${formatInstant(w.at)} after it had accepted the larger token ${prior.write.token} from pid ${prior.write.pid} ` +
          `(${prior.write.worker}) at ${formatInstant(prior.write.at)}`,
      });
      continue;
    }
    best.set(w.key, { token, write: w });
  }
  return { violations, counts, stale };
}

/** `<job>#<item>` back into its parts (the job name may itself contain `#`). */
function itemOf(key: string): { job?: string; item?: number } {
  const cut = key.lastIndexOf('#');
  const item = Number(key.slice(cut + 1));
  return cut < 0 || !Number.isInteger(item) ? {} : { job: key.slice(0, cut), item };
}
