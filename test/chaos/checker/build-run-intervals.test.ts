import { describe, expect, it } from 'vitest';
import { buildRunIntervals } from '../../../chaos/checker/build-run-intervals.js';
import { fault, fire, run, write } from './records.js';

describe('buildRunIntervals()', () => {
  it('pairs each start with the terminal event of the same run and keeps its kind and reason', () => {
    const events = [
      ...run({ pid: 1, token: '5', start: 100, end: 400, ending: 'aborted', reason: 'LEASE_LOST' }),
      ...run({ pid: 1, token: '6', fire: fire(1), start: 1000, end: 1300 }),
      ...run({ pid: 2, token: '6', fire: fire(1), attempt: 2, start: 1400, end: 1500, ending: 'failed' }),
    ];
    const { intervals, orphanEnds } = buildRunIntervals(events, [], []);
    expect(intervals.map((r) => [r.pid, r.start, r.end, r.ending, r.reason])).toEqual([
      [1, 100, 400, 'aborted', 'LEASE_LOST'],
      [1, 1000, 1300, 'end', undefined],
      [2, 1400, 1500, 'failed', undefined],
    ]);
    expect(orphanEnds).toEqual([]);
  });

  it('matches fire times as instants, not strings', () => {
    const [start, end] = run({ pid: 1, token: '5', start: 100, end: 400 });
    const { intervals } = buildRunIntervals([start!, { ...end!, fire: fire(0).replace('.000Z', 'Z') }], [], []);
    expect(intervals).toMatchObject([{ start: 100, end: 400, ending: 'end' }]);
  });

  it('ends a run of a SIGKILLed pid at the first kill sent after it started', () => {
    const events = run({ pid: 1, token: '5', start: 1000 });
    const { intervals } = buildRunIntervals(events, [], [fault('sigkill', 1, 500, 600), fault('sigkill', 1, 1700, 2500), fault('sigkill', 1, 9000, 9500)]);
    expect(intervals).toMatchObject([{ end: 1700, ending: 'killed' }]);
  });

  it('ends a run of a SIGTERMed pid with no end at the last event of that pid', () => {
    const spec = { pid: 1, token: '5', start: 1000 };
    const events = [...run(spec), ...run({ pid: 2, token: '9', start: 5000, end: 9000 })];
    const { intervals } = buildRunIntervals(events, [write(spec, 1800)], [fault('sigterm', 1, 2000, 4000)]);
    expect(intervals[0]).toMatchObject({ pid: 1, end: 1800, ending: 'terminated' });
  });

  it('ends a run still going at the end of the data there', () => {
    const events = [...run({ pid: 1, token: '5', start: 1000 }), ...run({ pid: 2, token: '9', start: 5000, end: 9000 })];
    const { intervals, dataEnd } = buildRunIntervals(events, [], [fault('zk-outage', undefined, 9500, 12_000)]);
    expect(dataEnd).toBe(12_000);
    expect(intervals[0]).toMatchObject({ pid: 1, end: 12_000, ending: 'open' });
  });

  it('reports terminal events without a start', () => {
    const [, end] = run({ pid: 1, token: '5', start: 100, end: 400 });
    const { intervals, orphanEnds } = buildRunIntervals([end!], [], []);
    expect(intervals).toEqual([]);
    expect(orphanEnds).toEqual([end]);
  });
});
