import { describe, expect, it } from 'vitest';
import { withLatestOutcome } from '../../src/model/latest-outcome.js';
import type { ProgressRecord, RecentOutcome } from '../../src/model/progress-record.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const run = (s: number, outcome: RecentOutcome['outcome'], extra: Partial<RecentOutcome> = {}): RecentOutcome => ({ fireTime: at(s), outcome, attempt: 1, worker: 'w2', at: at(s + 1), ...extra });

// Run protocol v2, step 4c: a success of a run its member's ledger alone held writes no record;
// views take its outcome from the item's history.
describe('withLatestOutcome', () => {
  const record: ProgressRecord = { lastScheduled: at(30), lastCompleted: at(10), outcome: 'failed', attempt: 2, durationMs: 40, worker: 'w1' };

  it("takes a success the history has after the record's last outcome", () => {
    const recent = [run(30, 'missed'), run(20, 'success', { durationMs: 7, attempt: 1 }), run(10, 'failed')];
    expect(withLatestOutcome({ ...record, recent })).toEqual({ ...record, recent, lastCompleted: at(20), outcome: 'success', attempt: 1, durationMs: 7, worker: 'w2' });
  });

  it("keeps the record's outcome when the history has nothing newer (or only notes and failures)", () => {
    for (const recent of [[], [run(10, 'success')], [run(5, 'success')], [run(30, 'skipped'), run(25, 'failed')]]) {
      expect(withLatestOutcome({ ...record, recent })).toEqual({ ...record, recent });
    }
    expect(withLatestOutcome({})).toEqual({});
  });

  it('a success with no duration leaves none', () => {
    const recent = [run(20, 'success')];
    const out = withLatestOutcome({ ...record, recent });
    expect(out).toMatchObject({ lastCompleted: at(20), outcome: 'success' });
    expect(out).not.toHaveProperty('durationMs');
  });
});
