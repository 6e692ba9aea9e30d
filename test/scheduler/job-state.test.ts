import { describe, expect, it } from 'vitest';
import { settleFires, type JobState } from '../../src/scheduler/job-state.js';

/** Only what `settleFires` reads of a job's state. */
function stateWith(open: number[]): JobState {
  return { unsettled: new Map([[3, open]]) } as unknown as JobState;
}

describe('settleFires', () => {
  it('removes one instant wherever it is, every copy of it, and nothing else', () => {
    const s = stateWith([1000, 2000, 3000]);
    settleFires(s, 3, 1000); // the oldest: the usual case
    expect(s.unsettled.get(3)).toEqual([2000, 3000]);
    settleFires(s, 3, 3000);
    expect(s.unsettled.get(3)).toEqual([2000]);
    settleFires(s, 3, 5000); // not there
    expect(s.unsettled.get(3)).toEqual([2000]);
    const twice = stateWith([1000, 1000, 2000, 1000]);
    settleFires(twice, 3, 1000);
    expect(twice.unsettled.get(3)).toEqual([2000]);
  });

  it('upTo: every instant up to and including it', () => {
    const s = stateWith([1000, 2000, 3000]);
    settleFires(s, 3, 2000, true);
    expect(s.unsettled.get(3)).toEqual([3000]);
  });

  it('an item with nothing open, or no job state, is left alone', () => {
    const s = stateWith([]);
    settleFires(s, 4, 1000);
    settleFires(undefined, 3, 1000);
    expect(s.unsettled.has(4)).toBe(false);
  });
});
