import { describe, expect, it } from 'vitest';
import { ReusedRead } from '../../src/console/reused-read.js';

/** A read whose completion the test decides. */
function controlledReads() {
  const pending: Array<{ resolve: (v: number) => void; reject: (e: Error) => void }> = [];
  let count = 0;
  const read = () => new Promise<number>((resolve, reject) => {
    count++;
    pending.push({ resolve, reject });
  });
  return { read, pending, get count() { return count; } };
}

describe('ReusedRead: one costly read at a time, reused, the last result while a newer one is made', () => {
  it('shares the read in flight and reuses its result for ten times as long as it took', async () => {
    let now = 0;
    const r = controlledReads();
    const shared = new ReusedRead(r.read, 3000, () => now);
    const a = shared.get();
    now = 10_000; // still in flight after 10 s: the same read, not a second one
    const b = shared.get();
    expect(r.count).toBe(1);
    now = 20_000;
    r.pending[0]!.resolve(1); // took 20 s: reused for 200 s from its start
    expect(await a).toBe(1);
    expect(await b).toBe(1);
    now = 199_000;
    expect(await shared.get()).toBe(1);
    expect(r.count).toBe(1);
  });

  it('past the reuse time answers with the last result while one newer read is made; past twice that, waits for it', async () => {
    let now = 0;
    const r = controlledReads();
    const shared = new ReusedRead(r.read, 3000, () => now);
    const first = shared.get();
    now = 100; // took 100 ms: reused for 3 s (the minimum)
    r.pending[0]!.resolve(1);
    await first;
    now = 3500;
    expect(await shared.get()).toBe(1); // stale answer at once
    expect(r.count).toBe(2); // and a newer read started
    now = 4000;
    expect(await shared.get()).toBe(1);
    expect(r.count).toBe(2); // not a third while the second is in flight
    now = 7000; // twice the reuse time after the last result: wait for the newer read
    let waited: number | undefined;
    const late = shared.get().then((v) => { waited = v; });
    await Promise.resolve();
    expect(waited).toBeUndefined();
    r.pending[1]!.resolve(2);
    await late;
    expect(waited).toBe(2);
    expect(r.count).toBe(2);
  });

  it('a failed read fails only those who waited for it, and the next call reads again', async () => {
    let now = 0;
    const r = controlledReads();
    const shared = new ReusedRead(r.read, 3000, () => now);
    const first = shared.get();
    r.pending[0]!.reject(new Error('connection loss'));
    await expect(first).rejects.toThrow('connection loss');
    const second = shared.get();
    expect(r.count).toBe(2);
    r.pending[1]!.resolve(5);
    expect(await second).toBe(5);
    // A failure behind a stale answer reaches nobody (no unhandled rejection) and is read again later.
    now = 3500;
    expect(await shared.get()).toBe(5);
    r.pending[2]!.reject(new Error('timeout'));
    await new Promise((resolve) => setImmediate(resolve));
    now = 3600;
    expect(await shared.get()).toBe(5);
    expect(r.count).toBe(4);
  });
});
