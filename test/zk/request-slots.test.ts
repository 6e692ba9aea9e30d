import { describe, expect, it } from 'vitest';
import { RequestSlots } from '../../src/zk/request-slots.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('RequestSlots', () => {
  it('runs at most `limit` at once, the others in the order they came, and frees a slot whether the work succeeds or fails', async () => {
    const slots = new RequestSlots(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(slots.inUse).toBe(2);
    gates[1]!.reject(new Error('connection loss'));
    await expect(runs[1]).rejects.toThrow('connection loss');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    await expect(runs[0]).resolves.toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3]);
    gates[3]!.resolve();
    await Promise.all([runs[2], runs[3]]);
    expect(slots.inUse).toBe(0);
  });

  it('keeps first come first served across thousands waiting', async () => {
    const slots = new RequestSlots(1);
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        slots.run(async () => {
          order.push(i);
          await Promise.resolve();
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(slots.inUse).toBe(0);
  });

  it('refuses a limit that is not a positive integer, naming it', () => {
    expect(() => new RequestSlots(0)).toThrow('limit must be a positive integer, got 0');
    expect(() => new RequestSlots(1.5)).toThrow('got 1.5');
  });
});
