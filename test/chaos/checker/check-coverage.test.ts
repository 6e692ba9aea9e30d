import { describe, expect, it } from 'vitest';
import { checkCoverage } from '../../../chaos/checker/check-coverage.js';
import type { ChaosJob, RunEvent } from '../../../chaos/chaos-records.js';
import { fire, fireMs, historyNote, JOB, note, run } from './records.js';

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
    const result = checkCoverage([...runsOf(0, all), ...runsOf(1, all)], [], [everySecond], window, []);
    expect(result.violations).toEqual([]);
    expect(result.counts).toEqual({ scheduledFires: 20, ran: 20, recorded: 0, recordedOnlyInZk: 0, unexcusedFires: 0, gaps: 0, unexcusedGaps: 0 });
  });

  it('counts only the job\'s own fire times inside the window, and a start alone (a killed run) as a run', () => {
    const everyOther: ChaosJob = { name: 'even', cron: '*/2 * * * * *', shards: 1 };
    const starts = runsOf(0, [0, 2, 4, 6, 8], 'even').filter((e) => e.event === 'start');
    const result = checkCoverage(starts, [], [everyOther], { from: fireMs(0) + 1, to: fireMs(8) }, []);
    expect(result.counts).toMatchObject({ scheduledFires: 4, ran: 4, unexcusedFires: 0 });
  });

  it('accepts a gap that a missed note written with the next run accounts for', () => {
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], [note(0, 'missed', 3, 5)], [everySecond], window, []);
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ scheduledFires: 20, ran: 17, recorded: 3, recordedOnlyInZk: 0, gaps: 1, unexcusedGaps: 0 });
    expect(result.gaps).toEqual([{ job: JOB, item: 0, first: fireMs(3), last: fireMs(5), size: 3, noted: 3, onlyInZk: 0, unnoted: [], excused: true }]);
  });

  it('adds up missed and skipped notes for one gap', () => {
    const notes = [note(0, 'skipped', 1, 3), note(0, 'missed', 2, 5)];
    expect(checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], notes, [everySecond], window, []).violations).toEqual([]);
  });

  it('reports a gap no note accounts for, once, with its bounds and the fires no note stands for', () => {
    const result = checkCoverage([...runsOf(0, all), ...runsOf(1, without(2, 3, 4))], [], [everySecond], window, []);
    expect(result.counts).toMatchObject({ ran: 17, recorded: 0, unexcusedFires: 3, gaps: 1, unexcusedGaps: 1 });
    expect(result.violations).toEqual([expect.objectContaining({ check: 'coverage', job: JOB, item: 1, at: fireMs(2) })]);
    expect(result.violations[0]!.detail).toBe(
      `${JOB}#1: 3 scheduled fires from ${fire(2)} to ${fire(4)} never started; missed/skipped notes (logged or in ZooKeeper's history) ` +
        `stand for 0 of them, none for ${fire(2)}, ${fire(3)}, ${fire(4)}`,
    );
  });

  it('reports the fires of a gap a note does not reach: a note stands for the consecutive instants ending at its latest fire', () => {
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], [note(0, 'missed', 2, 5)], [everySecond], window, []);
    expect(result.counts).toMatchObject({ recorded: 2, unexcusedFires: 1, unexcusedGaps: 1 });
    expect(result.gaps[0]).toMatchObject({ noted: 2, unnoted: [fireMs(3)], excused: false });
    expect(result.violations[0]!.detail).toContain(`stand for 2 of them, none for ${fire(3)}`);
  });

  it('does not count notes of another item or for other fires', () => {
    // Item 1's note, and item 0's note for 6..8 (after the gap): neither stands for 3..5.
    const notes = [note(1, 'missed', 3, 5), note(0, 'missed', 3, 8)];
    const result = checkCoverage([...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)], notes, [everySecond], window, []);
    expect(result.counts.unexcusedFires).toBe(3);
  });

  it('counts a note for a gap at the end of the window whose latest fire lies past the window', () => {
    const runs = [...runsOf(0, without(8, 9)), ...runsOf(1, all)];
    expect(checkCoverage(runs, [note(0, 'missed', 3, 10)], [everySecond], window, []).violations).toEqual([]);
    expect(checkCoverage(runs, [note(0, 'missed', 2, 10)], [everySecond], window, []).gaps[0]).toMatchObject({ unnoted: [fireMs(8)], excused: false });
  });

  it('counts a note by the job\'s schedule: 2 fires of */2 ending at 6 s are 4 s and 6 s', () => {
    const everyOther: ChaosJob = { name: 'even', cron: '*/2 * * * * *', shards: 1 };
    const runs = runsOf(0, [0, 2, 8], 'even');
    const result = checkCoverage(runs, [note(0, 'missed', 2, 6, 'even')], [everyOther], { from: fireMs(0), to: fireMs(8) }, []);
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ scheduledFires: 5, ran: 3, recorded: 2 });
  });

  it('matches fire times as instants whatever their ISO spelling', () => {
    const runs = [...runsOf(0, all), ...runsOf(1, all)].map((e) => ({ ...e, fire: e.fire.replace('.000Z', 'Z') }));
    expect(checkCoverage(runs, [], [everySecond], window, []).counts.ran).toBe(20);
  });

  describe('notes read from ZooKeeper (the items\' histories)', () => {
    it('a note only in ZooKeeper (its writer never heard the answer, so logged nothing) covers its fires', () => {
      const runs = [...runsOf(0, without(3, 4, 5)), ...runsOf(1, all)];
      expect(checkCoverage(runs, [], [everySecond], window, []).counts.unexcusedFires).toBe(3);
      const result = checkCoverage(runs, [], [everySecond], window, [historyNote(0, 'missed', 3, 5)]);
      expect(result.violations).toEqual([]);
      expect(result.counts).toMatchObject({ ran: 17, recorded: 3, recordedOnlyInZk: 3, unexcusedFires: 0, gaps: 1, unexcusedGaps: 0 });
      expect(result.gaps[0]).toMatchObject({ noted: 3, onlyInZk: 3, excused: true });
    });

    it('a skipped entry counts as its note does ("N fire(s) skipped: …")', () => {
      const runs = [...runsOf(0, without(4, 5)), ...runsOf(1, all)];
      expect(checkCoverage(runs, [], [everySecond], window, [historyNote(0, 'skipped', 2, 5)]).violations).toEqual([]);
    });

    it('a fire with no run and no note, logged or in ZooKeeper, is still reported', () => {
      const runs = [...runsOf(0, without(3, 4, 5)), ...runsOf(1, without(7))];
      const result = checkCoverage(runs, [], [everySecond], window, [historyNote(0, 'missed', 3, 5)]);
      expect(result.counts).toMatchObject({ recorded: 3, unexcusedFires: 1, unexcusedGaps: 1 });
      expect(result.violations).toEqual([expect.objectContaining({ check: 'coverage', job: JOB, item: 1, at: fireMs(7) })]);
    });

    it('a note both logged and in ZooKeeper counts its fires once, as logged', () => {
      const runs = [...runsOf(0, without(3, 4, 5, 6)), ...runsOf(1, all)];
      // The same 3 fires (3..5) twice do not make up for fire 6.
      const result = checkCoverage(runs, [note(0, 'missed', 3, 5)], [everySecond], window, [historyNote(0, 'missed', 3, 5), historyNote(0, 'missed', 3, 5, 'w2')]);
      expect(result.counts).toMatchObject({ recorded: 3, recordedOnlyInZk: 0, unexcusedFires: 1 });
      expect(result.gaps[0]).toMatchObject({ unnoted: [fireMs(6)] });
    });

    it('an entry without a count stands for its own fire only', () => {
      const runs = [...runsOf(0, without(4, 5)), ...runsOf(1, all)];
      const { error: _, ...bare } = historyNote(0, 'missed', 2, 5);
      expect(checkCoverage(runs, [], [everySecond], window, [bare]).gaps[0]).toMatchObject({ noted: 1, unnoted: [fireMs(4)] });
    });
  });
});
