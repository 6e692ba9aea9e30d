import { describe, expect, it } from 'vitest';
import { checkRecordedOnce } from '../../../chaos/checker/check-recorded-once.js';
import type { ChaosJob, RunEvent } from '../../../chaos/chaos-records.js';
import { fire, fireMs, JOB, note, run } from './records.js';

const everySecond: ChaosJob = { name: JOB, cron: '* * * * * *', shards: 2 };
/** Fires 0..9 s. */
const window = { from: fireMs(0), to: fireMs(9) };

function runsOf(item: number, seconds: number[], attempt = 1): RunEvent[] {
  return seconds.flatMap((s) => run({ pid: 1, item, fire: fire(s), attempt, token: String(100 + s), start: fireMs(s) + 5, end: fireMs(s) + 300 }));
}

describe('checkRecordedOnce()', () => {
  it('finds nothing when runs and notes stand for different fires; a fire run again is one fire', () => {
    const runs = [...runsOf(0, [0, 1, 2, 6, 7, 8, 9]), ...runsOf(0, [2], 2), ...runsOf(1, [0, 1])];
    const result = checkRecordedOnce(runs, [note(0, 'missed', 3, 5)], [everySecond], window);
    expect(result).toEqual({ violations: [], counts: { accounted: 12, twice: 0 } });
  });

  it('a fire two notes stand for, or a note and a run: one violation per pair, every fire counted', () => {
    const notes = [note(0, 'missed', 3, 5), note(0, 'missed', 4, 6), note(1, 'skipped', 1, 1)];
    const result = checkRecordedOnce([...runsOf(0, [0, 1, 2, 7, 8, 9]), ...runsOf(1, [1])], notes, [everySecond], window);
    expect(result.counts).toEqual({ accounted: 11, twice: 4 });
    expect(result.violations.map((v) => [v.job, v.item, v.at])).toEqual([[JOB, 1, fireMs(1)], [JOB, 0, fireMs(3)]]);
    expect(result.violations[1]!.detail).toMatch(/3 fires from .* accounted for twice: a note of 3 missed fire\(s\) up to .* and a note of 4 missed/);
  });
});
