import { describe, expect, it } from 'vitest';
import { checkCoverage } from '../../../chaos/checker/check-coverage.js';
import type { ChaosJob, RunEvent } from '../../../chaos/chaos-records.js';
import { fire, fireMs, JOB, note, run } from './records.js';

const everySecond: ChaosJob = { name: JOB, cron: '* * * * * *', shards: 2 };
/** Fires 0..9 s. */
const window = { from: fireMs(0), to: fireMs(9) };

/** One run of each given second for `item` (with its end). */
function runsOf(item: number, seconds: number[], job = JOB): RunEvent[] {
  return seconds.flatMap((s) => run({ pid: 1, job, item, fire: fire(s), token: String(100 + s), start: fireMs(s) + 5, end: fireMs(s) + 300 }));
}
const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const without = (...gone: number[]) => all.filter((s) => !gone.includes(s));

describe('checkCoverage()', () => {
  it('finds nothing when every scheduled fire of every item ran', () => {
    const result = checkCoverage([...runsOf(0, all), ...runsOf(1, all)], [], [everySecond], window);
    expect(result.violations).toEqual([]);
    expect(result.counts).toEqual({ scheduledFires: 20, ran: 20, recorded: 0, unexcusedFires: 0, gaps: 0, unexcusedGaps: 0 });
  });

  it('counts only the job\'s own fire times inside the window, and a start alone (a killed run) as a run', () => {
    const everyOther: ChaosJob = { name: 'even', cron: '*/2 * * * * *', shards: 1 };
    const starts = runsOf(0, [0, 2, 4, 6, 8], 'even').filter((e) => e.event === 'start');
    const result = checkCoverage(starts, [], [everyOther], { from: fireMs(0) + 1, to: fireMs(8) });
    expect(result.counts).toMatchObject({ scheduledFires: 4, ran: 4, unexcusedFires: 0 });
  });

  it('accepts a gap that a missed note written with the next run accounts for', () => {
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], [note(0, 'missed', 3, 5)], [everySecond], window);
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ scheduledFires: 20, ran: 17, recorded: 3, gaps: 1, unexcusedGaps: 0 });
    expect(result.gaps).toEqual([{ job: JOB, item: 0, first: fireMs(3), last: fireMs(5), size: 3, noted: 3, bound: fireMs(6), excused: true }]);
  });

  it('adds up missed and skipped notes for one gap', () => {
    const notes = [note(0, 'skipped', 1, 3), note(0, 'missed', 2, 5)];
    expect(checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], notes, [everySecond], window).violations).toEqual([]);
  });

  it('reports a gap no note accounts for, once, with its bounds and the notes found', () => {
    const result = checkCoverage([...runsOf(0, all), ...runsOf(1, without(2, 3, 4))], [], [everySecond], window);
    expect(result.counts).toMatchObject({ ran: 17, recorded: 0, unexcusedFires: 3, gaps: 1, unexcusedGaps: 1 });
    expect(result.violations).toEqual([expect.objectContaining({ check: 'coverage', job: JOB, item: 1, at: fireMs(2) })]);
    expect(result.violations[0]!.detail).toBe(
      `${JOB}#1: 3 scheduled fires from ${fire(2)} to ${fire(4)} never started, and missed/skipped notes with latest in ` +
        `[${fire(2)}, ${fire(5)}] count only 0`,
    );
  });

  it('reports a gap whose notes cover fewer fires than it has', () => {
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], [note(0, 'missed', 2, 5)], [everySecond], window);
    expect(result.counts).toMatchObject({ recorded: 0, unexcusedFires: 3, unexcusedGaps: 1 });
    expect(result.violations[0]!.detail).toContain('count only 2');
  });

  it('does not count notes of another item or from after the next run', () => {
    const notes = [note(1, 'missed', 3, 5), note(0, 'missed', 3, 7)];
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], notes, [everySecond], window);
    expect(result.counts.unexcusedFires).toBe(3);
  });

  it('gives a gap at the end of the window until 60 s after it for its note', () => {
    const runs = [...runsOf(0, without(8, 9)), ...runsOf(1, all)];
    expect(checkCoverage(runs, [note(0, 'missed', 2, 9)], [everySecond], window).violations).toEqual([]);
    expect(checkCoverage(runs, [], [everySecond], window).gaps[0]).toMatchObject({ bound: fireMs(69), excused: false });
  });

  it('matches fire times as instants whatever their ISO spelling', () => {
    const runs = [...runsOf(0, all), ...runsOf(1, all)].map((e) => ({ ...e, fire: e.fire.replace('.000Z', 'Z') }));
    expect(checkCoverage(runs, [], [everySecond], window).counts.ran).toBe(20);
  });
});
