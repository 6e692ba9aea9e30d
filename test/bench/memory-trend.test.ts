import { describe, expect, it } from 'vitest';
import { allowedGrowthMb, memoryFlat, MemoryTrend } from '../../bench/lib/memory-trend.js';

const FROM = 1_000_000;
const WINDOW_MS = 600_000;

/** A firing worker's RSS: a sawtooth (V8 collecting its old generation every `periodS`), plus `leakMbPerS`. */
function sawtooth(phaseS: number, leakMbPerS = 0, periodS = 37): MemoryTrend {
  const t = new MemoryTrend();
  for (let s = 0; s < WINDOW_MS / 1000; s++) {
    const tooth = ((s + phaseS) % periodS) / periodS;
    t.addRss('w1', FROM + s * 1000, 170 + 75 * tooth + leakMbPerS * s);
    if (s % 5 === 0) t.addHeap('w1', FROM + s * 1000, 40 + 90 * tooth);
  }
  return t;
}

describe('MemoryTrend', () => {
  it('calls a flat sawtooth flat wherever its teeth fall', () => {
    for (let phase = 0; phase < 37; phase += 4) {
      const [w] = sawtooth(phase).summarize(FROM, FROM + WINDOW_MS);
      expect(Math.abs(w!.growthMb)).toBeLessThan(allowedGrowthMb(w!.firstRssMb));
      expect(memoryFlat([w!])).toBe(true);
    }
  });

  it('calls a leak of 15 % over the window under the same sawtooth not flat, wherever its teeth fall', () => {
    for (let phase = 0; phase < 37; phase += 4) {
      const [w] = sawtooth(phase, 0.05).summarize(FROM, FROM + WINDOW_MS); // 30 MB over 10 minutes
      expect(w!.growthMb).toBeGreaterThan(25);
      expect(w!.slopeMbPerMin).toBeCloseTo(3, 0);
      expect(memoryFlat([w!])).toBe(false);
    }
  });

  it('compares the window\'s first and last thirds, at most 3 minutes each, and reports their means and maxima', () => {
    const t = new MemoryTrend();
    for (let s = 0; s < 60; s++) t.addRss('w1', FROM + s * 1000, s < 20 ? 100 : s < 40 ? 500 : 104);
    t.addRss('w1', FROM - 1000, 999); // outside the window
    const [w] = t.summarize(FROM, FROM + 60_000);
    expect(w).toMatchObject({ worker: 'w1', spanMs: 20_000, firstRssMb: 100, lastRssMb: 104, firstMaxRssMb: 100, lastMaxRssMb: 104, maxRssMb: 500, samples: 60 });
    expect(w!.growthMb).toBe(6); // 4 MB between centres 40 s apart: 6 MB over 60 s
    expect(Number.isNaN(w!.firstHeapMb)).toBe(true); // never sampled
    expect(sawtooth(0).summarize(FROM, FROM + WINDOW_MS)[0]!.spanMs).toBe(180_000);
  });

  it('allows 10 MB growth to a small worker, and is not flat without samples at both ends', () => {
    const small = new MemoryTrend();
    const leaking = new MemoryTrend();
    const gone = new MemoryTrend();
    for (let s = 0; s < 600; s++) {
      small.addRss('w1', FROM + s * 1000, 60 + s / 120); // +5 MB: more than 10 %, less than 10 MB
      leaking.addRss('w1', FROM + s * 1000, 60 + s / 40); // +15 MB
      gone.addRss('w1', FROM + s * 1000, s < 300 ? 60 : undefined); // the process died halfway
    }
    expect(memoryFlat(small.summarize(FROM, FROM + WINDOW_MS))).toBe(true);
    expect(memoryFlat(leaking.summarize(FROM, FROM + WINDOW_MS))).toBe(false);
    expect(memoryFlat(gone.summarize(FROM, FROM + WINDOW_MS))).toBe(false);
    expect(memoryFlat([])).toBe(false);
  });

  it('keeps a worker\'s RSS series within the window, relative to its start', () => {
    const t = new MemoryTrend();
    t.addRss('w1', FROM - 1000, 1);
    t.addRss('w1', FROM + 1000, 2.26);
    t.addRss('w1', FROM + 60_000, 3);
    expect(t.rssSeries('w1', FROM, FROM + 60_000)).toEqual([[1000, 2.3]]);
    expect(t.rssSeries('w2', FROM, FROM + 60_000)).toEqual([]);
  });
});
