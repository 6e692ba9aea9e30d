import { describe, expect, test } from 'vitest';
import { recordBegun, recordedReason, recordNotes, withMember, type RecordedRun } from '../../src/executor/run-recorder.js';

const T = (s: number) => new Date(Date.UTC(2026, 4, 20, 10, 0, s));

describe('run recorder', () => {
  test('recordBegun() - a started begin records its missed and skipped notes; other outcomes nothing', () => {
    const got: RecordedRun[] = [];
    const recorder = { record: (r: RecordedRun) => void got.push(r) };
    const req = { job: 'j', item: 2, fireTime: T(9), attempt: 1, reason: 'queued' as const, missed: { count: 3, latest: T(5), earliest: T(3) }, skipped: { count: 1, latest: T(8) } };
    recordBegun(recorder, req, { status: 'duplicate' }, 'w', 0);
    expect(got).toEqual([]);
    recordBegun(recorder, req, { status: 'started', token: '7', notes: { missed: req.missed, skipped: req.skipped } }, 'w', T(9).getTime());
    expect(got).toEqual([
      { job: 'j', item: 2, worker: 'w', reason: 'schedule', endedAt: T(9), attempt: 0, outcome: 'missed', fireTime: T(5), fireId: `j@${T(5).toISOString()}#2`, fires: 3, error: `3 fire(s) missed from ${T(3).toISOString()}` },
      { job: 'j', item: 2, worker: 'w', reason: 'schedule', endedAt: T(9), attempt: 0, outcome: 'skipped', fireTime: T(8), fireId: `j@${T(8).toISOString()}#2`, fires: 1, error: '1 fire(s) skipped' },
    ]);
  });

  test('recordBegun() - records the notes the begin recorded (its result\'s), not those it was asked to', () => {
    const got: RecordedRun[] = [];
    const req = { job: 'j', item: 2, fireTime: T(9), attempt: 1, reason: 'misfire' as const, missed: { count: 3, latest: T(5), earliest: T(3) } };
    recordBegun({ record: (r) => void got.push(r) }, req, { status: 'started', token: '7', notes: { missed: { count: 1, latest: T(5) } } }, 'w', 0);
    expect(got).toMatchObject([{ outcome: 'missed', fireTime: T(5), fires: 1, reason: 'catch-up' }]);
    got.length = 0;
    recordBegun({ record: (r) => void got.push(r) }, req, { status: 'started', token: '7', notes: {} }, 'w', 0);
    expect(got).toEqual([]);
  });

  test('recordBegun() - a poisoned fire is recorded as failed, attempt = failovers', () => {
    const got: RecordedRun[] = [];
    recordBegun({ record: (r) => void got.push(r) }, { job: 'j', item: 0, fireTime: T(1), attempt: 4, reason: 'failover', rerun: true, poison: { reason: 'took down 3 owners' } } as never, { status: 'poisoned', notes: {} }, 'w', 0);
    expect(got).toMatchObject([{ outcome: 'failed', attempt: 3, reason: 'failover', error: 'took down 3 owners', fireTime: T(1) }]);
  });

  test('recordNotes(), withMember(), recordedReason()', () => {
    const got: RecordedRun[] = [];
    let name: string | undefined;
    const member = { get name(): string {
      if (!name) throw new Error('not registered');
      return name;
    } };
    const recorder = withMember({ record: (r) => void got.push(r) }, member);
    recordNotes(recorder, 'j', 1, { missed: { count: 1, latest: T(2) } }, 'w', 0);
    name = 'm-0000000003';
    recordNotes(recorder, 'j', 1, { skipped: { count: 2, latest: T(4) } }, 'w', 0);
    expect(got.map((r) => [r.outcome, r.member, r.fires])).toEqual([['missed', undefined, 1], ['skipped', 'm-0000000003', 2]]);
    expect(['schedule', 'queued', 'misfire', 'failover', 'trigger'].map((r) => recordedReason(r as never))).toEqual(['schedule', 'schedule', 'catch-up', 'failover', 'trigger']);
  });
});
