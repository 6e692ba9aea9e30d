import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleepUntil, untilAborted } from '../../src/clock/clock.js';
import { SimClock } from '../../src/simulation/sim-clock.js';
import { simTime } from '../../src/simulation/sim-time.js';
import { FakeClock } from '../support/fake-clock.js';
import { intercept } from '../support/intercept.js';

/** Whether `p` has settled (after the fake clock let its callbacks run). */
function tracked(p: Promise<void>): { done: boolean } {
  const state = { done: false };
  void p.then(() => (state.done = true));
  return state;
}

describe('sleepUntil', () => {
  it('resolves when the clock reads the instant, not before', async () => {
    const clock = new FakeClock(0);
    const gate = tracked(sleepUntil(clock, 1000, 20));
    await clock.advanceTo(999);
    expect(gate.done).toBe(false);
    await clock.advanceTo(1000);
    expect(gate.done).toBe(true);
  });

  it('arms the last stretch anew, from the clock read then: a first timer that fires late does not make the instant late', async () => {
    const clock = new FakeClock(0);
    const armed: number[] = [];
    const counted = intercept(clock, { setTimeout: (original, fn, ms) => (armed.push(ms), original(fn, ms)) });
    const gate = tracked(sleepUntil(counted, 1000, 20));
    // The first timer is due at 980; the process gets to it only at 995 (its turn ran long).
    clock.jump(995);
    await clock.advanceTo(995);
    expect(gate.done).toBe(false);
    await clock.advanceTo(999);
    expect(gate.done).toBe(false);
    await clock.advanceTo(1000);
    expect(gate.done).toBe(true);
    expect(armed).toEqual([980, 5]);
  });

  it('opens at once when the first timer fired after the instant', async () => {
    const clock = new FakeClock(0);
    const gate = tracked(sleepUntil(clock, 1000, 20));
    clock.jump(1004);
    await clock.advanceTo(1004);
    expect(gate.done).toBe(true);
  });

  it('waits in one piece when the instant is within the last stretch', async () => {
    const clock = new FakeClock(0);
    const gate = tracked(sleepUntil(clock, 15, 20));
    await clock.advanceTo(14);
    expect(gate.done).toBe(false);
    await clock.advanceTo(15);
    expect(gate.done).toBe(true);
  });

  describe('with the wall clock stepped while it waits (timers run on monotonic time)', () => {
    it('set back: never waits longer than the wait read at the start', async () => {
      const sim = new SimClock({ startWallMs: 0 });
      const gate = tracked(sleepUntil(simTime(sim.timers('w')), 1000, 20));
      await sim.advanceTo(979);
      sim.stepWall(-500); // the rest now reads 520 ms; the last stretch is still 20
      await sim.advanceTo(999);
      expect(gate.done).toBe(false);
      await sim.advanceTo(1000);
      expect(gate.done).toBe(true);
    });

    it('set forward: opens when the wall clock reads the instant', async () => {
      const sim = new SimClock({ startWallMs: 0 });
      const gate = tracked(sleepUntil(simTime(sim.timers('w')), 1000, 20));
      await sim.advanceTo(979);
      sim.stepWall(10);
      await sim.advanceTo(989);
      expect(gate.done).toBe(false);
      await sim.advanceTo(990);
      expect(gate.done).toBe(true);
    });
  });
});

describe('untilAborted', () => {
  it('resolves when either signal aborts and leaves no listener on the other, round after round', async () => {
    const stop = new AbortController();
    for (let round = 0; round < 20; round++) {
      const session = new AbortController();
      const waiting = untilAborted(session.signal, stop.signal);
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
      session.abort();
      await waiting;
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    }
    const last = new AbortController();
    const waiting = untilAborted(last.signal, stop.signal);
    stop.abort();
    await waiting;
    expect(getEventListeners(last.signal, 'abort')).toHaveLength(0);
  });

  it('resolves at once, adding nothing, when a signal has already aborted', async () => {
    const live = new AbortController();
    await untilAborted(live.signal, AbortSignal.abort());
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });
});
