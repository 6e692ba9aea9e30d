import { describe, expect, it } from 'vitest';
import { planTakeover, type FireTimes } from '../../src/scheduler/plan-takeover.js';
import { decideBegin } from '../../src/executor/begin-decision.js';

/** Every second, on the second. */
const everySecond: FireTimes = { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000) };
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const def = (misfire: 'fire-once' | 'skip' | 'catch-up', failover = true, maxCatchUp = 3) => ({ misfire, failover, maxCatchUp });

describe('planTakeover()', () => {
  it('a new item (no progress) does nothing before the schedule', () => {
    expect(planTakeover({ def: def('fire-once'), schedule: everySecond, progress: {}, runElsewhere: false, until: t(10) })).toEqual({ waitForRun: false, fires: [] });
  });

  it('an item never fired is accountable from its creation: an owner that died before its first fire loses nothing', () => {
    const plan = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: {}, runElsewhere: false, until: t(4.5), bornAt: t(0.5) });
    expect(plan.fires).toEqual([t(4)]);
    expect(plan.missed).toEqual({ count: 3, latest: t(3), earliest: t(1) });
  });

  it('waits while someone still holds the marker', () => {
    expect(planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(0).toISOString() }, runElsewhere: true, until: t(10) }).waitForRun).toBe(true);
  });

  it('re-runs the interrupted fire with the next attempt (failover)', () => {
    const inFlight = { fireTime: t(5).toISOString(), attempt: 1, member: 'm', worker: 'w', startedAt: t(5).toISOString() };
    const plan = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight }, runElsewhere: false, until: t(5.5) });
    expect(plan.rerun).toEqual({ fireTime: t(5), attempt: 2, failovers: { count: 1, workers: ['w'] } });
    expect(plan.fires).toEqual([]);
    expect(plan.missed).toBeUndefined();
  });

  it('S1: a fire whose runs took down more owners than maxFailovers is given up (poison), not run again', () => {
    const base = { fireTime: t(5).toISOString(), member: 'm', startedAt: t(5).toISOString() };
    // The first lost owner: re-run (default maxFailovers 1).
    const first = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight: { ...base, attempt: 1, worker: 'w1' } }, runElsewhere: false, until: t(5.5) });
    expect(first.rerun).toEqual({ fireTime: t(5), attempt: 2, failovers: { count: 1, workers: ['w1'] } });
    // Its re-run took down a second owner: given up, with the workers it took down.
    const second = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight: { ...base, attempt: 2, worker: 'w2', failovers: 1, down: ['w1'] } }, runElsewhere: false, until: t(5.5) });
    expect(second.rerun).toBeUndefined();
    expect(second.poison).toMatchObject({ fireTime: t(5), attempt: 3 });
    expect(second.poison!.reason).toMatch(/2 times .*maxFailovers 1.*w1, w2/);
    // A run handed back on shutdown costs no failover; maxFailovers is per job.
    const handedBack = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight: { ...base, attempt: 2, worker: 'w2', failovers: 1, down: ['w1'], interrupted: true } }, runElsewhere: false, until: t(5.5) });
    expect(handedBack.rerun).toEqual({ fireTime: t(5), attempt: 3, failovers: { count: 1, workers: ['w1'] } });
    const patient = planTakeover({ def: { ...def('fire-once'), maxFailovers: 3 }, schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight: { ...base, attempt: 3, worker: 'w3', failovers: 2, down: ['w1', 'w2'] } }, runElsewhere: false, until: t(5.5) });
    expect(patient.rerun).toEqual({ fireTime: t(5), attempt: 4, failovers: { count: 3, workers: ['w1', 'w2', 'w3'] } });
  });

  it('failover: false records the interrupted fire instead of running it', () => {
    const inFlight = { fireTime: t(5).toISOString(), attempt: 1, member: 'm', worker: 'w', startedAt: t(5).toISOString() };
    const plan = planTakeover({ def: def('fire-once', false), schedule: everySecond, progress: { lastScheduled: t(5).toISOString(), inFlight }, runElsewhere: false, until: t(5.5) });
    expect(plan.rerun).toBeUndefined();
    expect(plan.poison).toEqual({ fireTime: t(5), attempt: 2, reason: expect.stringMatching(/failover is off/) });
    expect(plan.missed).toBeUndefined();
  });

  // Found by the fleet simulation (seed 6): with failover off, the takeover only noted the fire
  // left in flight as missed on its next begin, which decideBegin refuses while a fire is in
  // flight ('takeover'): the new owner took the item over again and again and never ran it.
  it('failover: false: the takeover closes the fire left in flight, so that its begins are accepted', () => {
    const inFlight = { fireTime: t(3).toISOString(), attempt: 1, member: 'm', worker: 'w', startedAt: t(3).toISOString() };
    const progress = { lastScheduled: t(3).toISOString(), inFlight };
    for (const misfire of ['fire-once', 'skip', 'catch-up'] as const) {
      const plan = planTakeover({ def: def(misfire, false), schedule: everySecond, progress, runElsewhere: false, until: t(6.5) });
      // The first begin of the takeover must be one decideBegin accepts on this record.
      const first = plan.poison ? { fireTime: plan.poison.fireTime, attempt: plan.poison.attempt, rerun: true } : plan.fires[0] ? { fireTime: plan.fires[0], attempt: 1 } : undefined;
      expect(first, misfire).toBeDefined();
      expect(decideBegin(progress, first!, { member: 'm2', worker: 'w2' }, t(6.5).toISOString()).kind, misfire).toBe('begin');
    }
  });

  // Found by the fleet simulation (seed 5304): an item that had only ever run a manual trigger, left
  // in flight; counting from the trigger's fire time (not on the schedule) lost the scheduled fire
  // before it.
  it('an item whose only fire taken on is a trigger left in flight counts its scheduled fires from its creation', () => {
    const trigger = { fireTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 3, 676)).toISOString(), attempt: 1, member: 'm', worker: 'w', startedAt: t(3).toISOString() };
    const plan = planTakeover({ def: def('skip'), schedule: everySecond, progress: { inFlight: trigger, lastTrigger: 0 }, runElsewhere: false, until: t(4.5), bornAt: t(0.5) });
    expect(plan.rerun?.fireTime).toEqual(new Date(trigger.fireTime));
    expect(plan.missed).toEqual({ count: 4, latest: t(4), earliest: t(1) });
  });

  it('fire-once runs the latest missed fire and records the others', () => {
    const plan = planTakeover({ def: def('fire-once'), schedule: everySecond, progress: { lastScheduled: t(0).toISOString() }, runElsewhere: false, until: t(4.5) });
    expect(plan.fires).toEqual([t(4)]);
    expect(plan.missed).toEqual({ count: 3, latest: t(3), earliest: t(1) });
  });

  it('catch-up runs the most recent missed fires up to maxCatchUp, oldest first', () => {
    const plan = planTakeover({ def: def('catch-up', true, 3), schedule: everySecond, progress: { lastScheduled: t(0).toISOString() }, runElsewhere: false, until: t(5.5) });
    expect(plan.fires).toEqual([t(3), t(4), t(5)]);
    expect(plan.missed).toEqual({ count: 2, latest: t(2), earliest: t(1) });
  });

  it('skip runs nothing and records every missed fire', () => {
    const plan = planTakeover({ def: def('skip'), schedule: everySecond, progress: { lastScheduled: t(0).toISOString() }, runElsewhere: false, until: t(3.5) });
    expect(plan.fires).toEqual([]);
    expect(plan.missed).toEqual({ count: 3, latest: t(3), earliest: t(1) });
  });

  it('nothing missed when the last fire taken on is the latest due', () => {
    const plan = planTakeover({ def: def('catch-up'), schedule: everySecond, progress: { lastScheduled: t(3).toISOString() }, runElsewhere: false, until: t(3.9) });
    expect(plan).toEqual({ waitForRun: false, fires: [], from: t(3) });
  });
});
