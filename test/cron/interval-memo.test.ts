import { describe, expect, it } from 'vitest';
import { IntervalMemo } from '../../src/cron/interval-memo.js';

describe('IntervalMemo', () => {
  it('answers instants inside a remembered interval (ends included), nothing outside', () => {
    const m = new IntervalMemo();
    m.add(10, 19, 20);
    expect([m.get(9), m.get(10), m.get(15), m.get(19), m.get(20)]).toEqual([undefined, 20, 20, 20, undefined]);
  });

  it('widens the interval of an answer found again, and drops the oldest beyond its capacity', () => {
    const m = new IntervalMemo(2);
    m.add(10, 19, 20);
    m.add(5, 7, 20);
    expect(m.get(5)).toBe(20);
    expect(m.get(19)).toBe(20);
    m.add(20, 29, 30);
    m.add(30, 39, 40); // three answers: the first goes
    expect([m.get(15), m.get(25), m.get(35)]).toEqual([undefined, 30, 40]);
  });
});
