import type { InFlightRun, ProgressRecord } from '../model/progress-record.js';
import { isoOf, msOf } from '../model/iso-time.js';
import { inFlightOf } from '../model/ledger-view.js';
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
  if (claim !== undefined && (cached.createdAt === undefined || claim >= cached.createdAt) && (record.lastScheduled === undefined || claim > msOf(record.lastScheduled))) {
    record = { ...record, lastScheduled: isoOf(claim) };
  }
  if (record.inFlight) return record;
  const own = ledger.flightOf(job, item);
  return own ? { ...record, inFlight: inFlightOf(own, self.name, self.workerId) } : record;
}

/**
 * Our run of the item at `fireMs`: as the record says it (a run it carries, with its attempt and
 * failovers), else as `flight` says it (our ledger's, or what a release knows of its run).
 */
export function ownRun(
  record: ProgressRecord | undefined,
  self: { readonly name: string; readonly workerId: string },
  fireMs: number,
  flight: { fireMs: number; attempt: number } | undefined,
): InFlightRun | undefined {
  const known = record?.inFlight;
  if (known?.member === self.name && msOf(known.fireTime) === fireMs) return known;
  return flight?.fireMs === fireMs ? inFlightOf(flight, self.name, self.workerId) : undefined;
}
