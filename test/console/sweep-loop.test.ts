import { describe, expect, it } from 'vitest';
import { SweepLoop } from '../../src/console/sweep-loop.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { FakeClock } from '../support/fake-clock.js';

describe('SweepLoop', () => {
  it('sweeps at most every minIntervalMs, and spaces long sweeps so that sweeping takes at most busyShare of the time', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    let durationMs = 100;
    const loop = new SweepLoop(async () => {
      starts.push(clock.now());
      clock.jump(durationMs); // the sweep takes this long
    }, { minIntervalMs: 1000, busyShare: 0.25, clock }, silentLogger());
    expect(loop.delayAfter(100)).toBe(900);
    expect(loop.delayAfter(2000)).toBe(6000);
    loop.start();
    loop.start(); // idempotent
    await clock.advance(999);
    expect(starts).toEqual([]);
    await clock.advance(1);
    expect(starts).toEqual([1000]);
    durationMs = 2000; // the next sweeps are slow: 2 s each, then 6 s apart
    await clock.advanceTo(2000);
    expect(starts).toEqual([1000, 2000]);
    expect(loop.lastDurationMs).toBe(2000);
    await clock.advanceTo(9999);
    expect(starts).toEqual([1000, 2000]);
    await clock.advanceTo(10_000);
    expect(starts).toEqual([1000, 2000, 10_000]);
    loop.close();
    loop.close();
    await clock.advanceTo(60_000);
    expect(starts).toHaveLength(3);
  });

  it('a failed sweep is followed by the next one as usual', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const loop = new SweepLoop(async () => {
      calls++;
      throw new Error('connection loss');
    }, { minIntervalMs: 500, clock }, silentLogger());
    loop.start();
    await clock.advanceTo(1500);
    expect(calls).toBe(3);
    loop.close();
  });
});
