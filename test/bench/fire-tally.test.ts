import { describe, expect, it } from 'vitest';
import { LATE_ENTRY_MS, LATEST_INSTANTS, instantBreakdown, tallyFires } from '../../bench/lib/fire-tally.js';

const FIRE = Date.parse('2026-12-07T06:00:00.000Z');

/** `n` entries of `worker` at the instant `fire`, the first `firstMs` late, then one every `stepMs`. */
function entries(worker: string, fire: number, n: number, firstMs: number, stepMs: number) {
  return Array.from({ length: n }, (_, i) => ({ worker, fire, entry: fire + firstMs + i * stepMs }));
}

describe('instantBreakdown', () => {
  it('tells entries late because their worker started late from entries stalled among others begun on time', () => {
    const runs = [
      ...entries('a', FIRE, 10, 1, 0.1), // on time, none late
      ...entries('b', FIRE, 10, 12, 0.1), // started late: all 10 late together
      ...entries('c', FIRE, 10, 2, 1), // begun on time, stalled: entries at 2..11 ms, 6 of them over 5 ms
    ];
    const t = instantBreakdown(runs);
    expect(LATE_ENTRY_MS).toBe(5);
    expect(t.lateEntries).toEqual({ total: 16, startedLate: 10, duringEntries: 6 });
    expect(t.firstEntry.max).toBeCloseTo(12);
    expect(t.span.max).toBeCloseTo(9);
  });

  it('lists the worker-instants with the latest last entry, latest first, at most LATEST_INSTANTS', () => {
    const runs = Array.from({ length: 15 }, (_, k) => entries(`w${k}`, FIRE + k * 1000, 3, k, 0.5)).flat();
    const { latest } = instantBreakdown(runs);
    expect(latest).toHaveLength(LATEST_INSTANTS);
    expect(latest![0]).toEqual({ fire: '2026-12-07T06:00:14.000Z', worker: 'w14', firstMs: 14, lastMs: 15, entries: 3, late: 3 });
    expect(latest!.map((w) => w.worker)).toEqual(['w14', 'w13', 'w12', 'w11', 'w10', 'w9', 'w8', 'w7', 'w6', 'w5']);
    expect(latest![9]!.late).toBe(2); // entries at 5, 5.5 and 6 ms: 5 is not over 5
  });
});

describe('tallyFires', () => {
  it('counts runs in the window, duplicates and misses', () => {
    const rec = (job: string, fire: number) => ({ job, fire });
    const records = [rec('x', FIRE), rec('x', FIRE), rec('y', FIRE), rec('x', FIRE + 1000), rec('x', FIRE + 2000)];
    const t = tallyFires(records, (r) => `${r.job} ${r.fire}`, 2, FIRE, FIRE + 2000);
    expect(t.runs).toHaveLength(4);
    expect(t).toMatchObject({ expected: 4, duplicates: 1, misses: 1 });
  });
});
