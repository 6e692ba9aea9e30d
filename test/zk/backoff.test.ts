import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/zk/backoff.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, each delay in the upper half of its step', () => {
    const top = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    const bottom = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect(Array.from({ length: 6 }, () => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(Array.from({ length: 6 }, () => bottom.next())).toEqual([50, 100, 200, 400, 500, 500]);
    expect(top.attempts).toBe(6);
  });

  it('by default starts at 250 ms and never waits more than 1 s', () => {
    const b = new Backoff({ random: () => 0.999999 });
    expect(Array.from({ length: 5 }, () => b.next())).toEqual([250, 500, 1000, 1000, 1000]);
  });

  it('spreads the retries of parties that failed together', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff({ random }).next()));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(125);
    for (const d of delays) expect(d).toBeLessThanOrEqual(250);
  });

  it('reset() starts again from the first step', () => {
    const b = new Backoff({ initialMs: 100, random: () => 0.999999 });
    b.next();
    b.next();
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('refuses bad options, naming the option and the value', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(/`initialMs` must be a positive number, got 0/);
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 })).toThrow(/`maxMs` must be a number >= initialMs \(500\), got 100/);
    expect(() => new Backoff({ maxMs: Number.NaN })).toThrow(/`maxMs`.*got NaN/);
  });
});
