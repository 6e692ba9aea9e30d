import { describe, expect, it } from 'vitest';
import { diffFleet } from '../../src/console/fleet-events.js';
import type { FleetSnapshot, ItemSnapshot, RunSnapshot } from '../../src/api/fleet-snapshot.js';
import type { ProgressRecord } from '../../src/model/progress-record.js';
import { testJob } from '../support/test-job.js';

const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';
const T3 = '2026-01-01T00:00:03.000Z';

/** A fleet of one job `j` with one item in this state. */
function fleet(progress: ProgressRecord, run: RunSnapshot | null = null): FleetSnapshot {
  const item: ItemSnapshot = { item: 0, exists: true, progress, run };
  return {
    namespace: 'ns', readAt: 0, members: [], drains: [],
    jobs: [{ name: 'j', definition: testJob('j', { shards: 1 }), version: 0, assignment: undefined, control: { disabled: false, disabledItems: [], pins: {} }, items: [item] }],
  };
}
const success = (at: string): ProgressRecord => ({ lastScheduled: at, lastCompleted: at, outcome: 'success', attempt: 1, worker: 'w1' });
const running = (at: string): RunSnapshot => ({ member: 'm-1', live: true, worker: 'w1', fireTime: at, attempt: 1, startedAt: null, token: '5' });
const runs = (a: FleetSnapshot, b: FleetSnapshot) => diffFleet(a, b, ['j'], false).filter((e) => e.type === 'run');

describe('diffFleet: run events', () => {
  it('a run seen in flight, then ended: one start, then one end', () => {
    const s1 = fleet(success(T1), running(T2));
    expect(runs(fleet(success(T1)), s1)).toEqual([{ type: 'run', job: 'j', item: 0, fireTime: T2, attempt: 1, worker: 'w1' }]);
    expect(runs(s1, fleet(success(T2)))).toEqual([{ type: 'run', job: 'j', item: 0, fireTime: T2, attempt: 1, worker: 'w1', outcome: 'success' }]);
  });

  it('a run begun and ended between two reads: its start, then its end', () => {
    expect(runs(fleet(success(T1)), fleet(success(T2)))).toEqual([
      { type: 'run', job: 'j', item: 0, fireTime: T2, attempt: 1, worker: 'w1' },
      { type: 'run', job: 'j', item: 0, fireTime: T2, attempt: 1, worker: 'w1', outcome: 'success' },
    ]);
  });

  it("an end older than the one told is no news (a success its ledger alone recorded shows until its item begins again; the record's is older)", () => {
    const told = fleet(success(T2));
    // The member began the item again: the snapshot says the record's older end, and the next run.
    const again = fleet(success(T1), running(T3));
    expect(runs(told, again)).toEqual([{ type: 'run', job: 'j', item: 0, fireTime: T3, attempt: 1, worker: 'w1' }]);
    expect(runs(again, fleet(success(T3)))).toEqual([{ type: 'run', job: 'j', item: 0, fireTime: T3, attempt: 1, worker: 'w1', outcome: 'success' }]);
    // A re-run of the same fire elsewhere is news.
    expect(runs(fleet(success(T2)), fleet({ ...success(T2), worker: 'w2', outcome: 'failed' }))).toHaveLength(2);
  });
});
