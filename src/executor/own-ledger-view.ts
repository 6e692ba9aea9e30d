import type { ProgressRecord } from '../model/progress-record.js';
import { isoOf } from '../model/iso-time.js';
import type { CachedProgress } from './progress-cache.js';
import type { LedgerWriter } from './ledger-writer.js';

/**
 * An item's record with what our own ledger says of it that the record does not (run protocol v2,
 * step 4c: our runs and claims are held by our ledger alone, and a read of the record since they
 * were written does not have them): our claim is the item's frontier (never one from before the
 * item was made: an earlier item of its name), and a run of ours that was never released is its
 * fire in flight — the item's to re-run by a takeover, never to be begun over.
 */
export function withOwnLedger(
  cached: Pick<CachedProgress, 'record' | 'createdAt'>,
  ledger: Pick<LedgerWriter, 'claimOf' | 'flightOf'>,
  self: { readonly name: string; readonly workerId: string },
  job: string,
  item: number,
): ProgressRecord {
  let record = cached.record;
  const claim = ledger.claimOf(job, item);
  if (claim !== undefined && (cached.createdAt === undefined || claim >= cached.createdAt) && (record.lastScheduled === undefined || claim > Date.parse(record.lastScheduled))) {
    record = { ...record, lastScheduled: isoOf(claim) };
  }
  if (record.inFlight) return record;
  const own = ledger.flightOf(job, item);
  if (!own) return record;
  const at = isoOf(own.fireMs);
  return { ...record, inFlight: { fireTime: at, attempt: own.attempt, member: self.name, worker: self.workerId, startedAt: at } };
}
