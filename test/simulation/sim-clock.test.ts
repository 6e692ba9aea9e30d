import { describe, expect, it } from 'vitest';
import { SimClock, SimRunawayError } from '../../src/simulation/sim-clock.js';
import { SeededRandom } from '../../src/simulation/seeded-random.js';

describe('SimClock', () => {
  it('runs timers by due time, then in the order they were set; time jumps to each', async () => {
    const clock = new SimClock();
    const t = clock.timers('p');
    const log: string[] = [];
    t.setTimeout(() => log.push(`b@${clock.nowMs}`), 20);
    t.setTimeout(() => log.push(`a@${clock.nowMs}`), 10);
    t.setTimeout(() => log.push(`c@${clock.nowMs}`), 20);
    t.setImmediate(() => log.push(`i@${clock.nowMs}`));
    const cleared = t.setTimeout(() => log.push('never'), 5);
    t.clearTimeout(cleared);
    expect(clock.pending).toBe(4);
    await clock.run();
    expect(log).toEqual(['i@0', 'a@10', 'b@20', 'c@20']);
    expect(clock.pending).toBe(0);
  });

  it('intervals repeat until cleared; advanceBy and advanceTo stop at the given time', async () => {
    const clock = new SimClock();
    const t = clock.timers('p');
    const at: number[] = [];
    const iv = t.setInterval(() => at.push(clock.nowMs), 100);
    await clock.advanceBy(350);
    expect(at).toEqual([100, 200, 300]);
    expect(clock.nowMs).toBe(350);
    await clock.advanceTo(420);
    expect(at).toEqual([100, 200, 300, 400]);
    expect(clock.nowMs).toBe(420);
    t.clearInterval(iv);
    await clock.advanceBy(1000);
    expect(at).toHaveLength(4);
  });

  it('lets every promise continuation of an event run before the next event', async () => {
    const clock = new SimClock();
    const t = clock.timers('p');
    const log: string[] = [];
    t.setTimeout(() => {
      void (async () => {
        await Promise.resolve();
        await new Promise<void>((r) => queueMicrotask(r));
        log.push('continuation of first');
      })();
    }, 10);
    t.setTimeout(() => log.push('second'), 10);
    await clock.run();
    expect(log).toEqual(['continuation of first', 'second']);
  });

  it('a frozen process runs none of its timers; thawed, it runs the overdue ones in due order, late', async () => {
    const clock = new SimClock();
    const a = clock.timers('a');
    const b = clock.timers('b');
    const log: string[] = [];
    a.setTimeout(() => log.push(`a2@${clock.nowMs}`), 200);
    a.setTimeout(() => log.push(`a1@${clock.nowMs}`), 100);
    b.setTimeout(() => log.push(`b@${clock.nowMs}`), 150);
    clock.freeze('a');
    a.setTimeout(() => log.push(`a3@${clock.nowMs}`), 50);
    await clock.advanceBy(1000);
    expect(log).toEqual(['b@150']);
    expect(clock.isFrozen('a')).toBe(true);
    clock.thaw('a');
    await clock.run();
    expect(log).toEqual(['b@150', 'a3@1000', 'a1@1000', 'a2@1000']);
  });

  it('a killed process runs none of its timers again, frozen or not', async () => {
    const clock = new SimClock();
    const log: string[] = [];
    clock.timers('a').setInterval(() => log.push('a'), 10);
    clock.timers('b').setTimeout(() => log.push('b'), 30);
    clock.freeze('b');
    clock.timers('b').setTimeout(() => log.push('b2'), 5);
    clock.kill('a');
    clock.kill('b');
    clock.thaw('b');
    await clock.advanceBy(100);
    expect(log).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('the wall clock can be stepped, for all processes or one; the monotonic clock cannot', async () => {
    const clock = new SimClock({ startWallMs: 1_000_000 });
    const t = clock.timers('p');
    await clock.advanceBy(500);
    expect(t.now()).toBe(1_000_500);
    clock.stepWall(-2000);
    expect(t.now()).toBe(998_500);
    expect(t.monotonicNow()).toBe(500);
    const skewed = clock.timers('skewed');
    clock.stepWall(30_000, 'skewed');
    expect(skewed.now()).toBe(1_028_500);
    expect(t.now()).toBe(998_500);
    expect(() => clock.stepWall(Number.NaN)).toThrow('sim-clock: stepWall(deltaMs) needs a finite number, got NaN');
  });

  it('with a random source, same-instant events of different processes run in a drawn order; each process keeps its own order', async () => {
    const orders = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const clock = new SimClock({ random: new SeededRandom(seed) });
      const log: string[] = [];
      for (const p of ['x', 'y', 'z']) for (let i = 0; i < 3; i++) clock.timers(p).setTimeout(() => log.push(`${p}${i}`), 10);
      await clock.run();
      for (const p of ['x', 'y', 'z']) expect(log.filter((e) => e.startsWith(p))).toEqual([`${p}0`, `${p}1`, `${p}2`]);
      orders.add(log.join(','));
    }
    expect(orders.size).toBeGreaterThan(5);
  });

  it('runUntil gives up with SimRunawayError when the condition does not come within its virtual time', async () => {
    const clock = new SimClock();
    clock.timers('p').setInterval(() => {}, 10);
    await expect(clock.runUntil(() => false, 1000)).rejects.toBeInstanceOf(SimRunawayError);
    expect(clock.nowMs).toBe(1000);
  });

  it('timer handles accept unref() like Node timeouts', () => {
    const clock = new SimClock();
    const handle = clock.timers('p').setTimeout(() => {}, 1).unref();
    expect(handle.hasRef()).toBe(true);
  });
});
