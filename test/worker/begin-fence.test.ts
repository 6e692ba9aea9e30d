import { describe, expect, it } from 'vitest';
import { BeginFence } from '../../src/worker/begin-fence.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { settle } from '../support/manual-timers.js';

/** A catch-up the test ends by hand, counting how often it was asked for. */
function manualCatchUp() {
  const pending: Array<() => void> = [];
  return {
    asked: () => pending.length,
    fn: () => new Promise<void>((resolve) => pending.push(resolve)),
    async finish(): Promise<void> {
      pending.shift()!();
      await settle();
    },
  };
}

describe('BeginFence', () => {
  it('begins check a new member node version only once the assignments announced before it are applied', async () => {
    const catchUp = manualCatchUp();
    const fence = new BeginFence(0, catchUp.fn, silentLogger());
    expect(fence.version).toBe(0);
    let woken: number | undefined;
    void fence.above(0).then((v) => (woken = v));
    fence.moved(1);
    await settle();
    expect([fence.version, woken, catchUp.asked()]).toEqual([0, undefined, 1]); // still catching up
    fence.moved(2); // moved again meanwhile: a second catch-up follows the first
    await catchUp.finish();
    expect([fence.version, woken]).toEqual([1, 1]);
    expect(catchUp.asked()).toBe(1);
    await catchUp.finish();
    expect(fence.version).toBe(2);
    expect(await fence.above(1)).toBe(2); // already above: at once
  });

  it('a version at or below what is known changes nothing; close wakes the waiters with undefined', async () => {
    const catchUp = manualCatchUp();
    const fence = new BeginFence(3, catchUp.fn, silentLogger());
    fence.moved(3);
    fence.moved(2);
    await settle();
    expect(catchUp.asked()).toBe(0);
    const waiting = fence.above(3);
    fence.close();
    expect(await waiting).toBeUndefined();
    expect(await fence.above(0)).toBeUndefined();
    fence.close(); // idempotent
  });
});
