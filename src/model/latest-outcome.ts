import type { ProgressRecord } from './progress-record.js';

/**
 * The item's record with its latest outcome as its history says it, when that is newer: a run that
 * succeeded, held by its member's ledger alone, does not write the record (run protocol v2, step
 * 4c: the record is written for what others must know — failures, runs handed back, notes); its
 * outcome reaches the item's history, with a later release or within the history interval. For
 * views (zkctl, the console), never for a decision: a success's frontier is in the member's ledger.
 */
export function withLatestOutcome(record: ProgressRecord): ProgressRecord {
  const latest = record.recent?.find((o) => o.outcome === 'success');
  if (!latest || (record.lastCompleted !== undefined && latest.fireTime <= record.lastCompleted)) return record;
  const out: ProgressRecord = { ...record, lastCompleted: latest.fireTime, outcome: 'success', attempt: latest.attempt, worker: latest.worker };
  if (latest.durationMs === undefined) delete out.durationMs;
  else out.durationMs = latest.durationMs;
  return out;
}
