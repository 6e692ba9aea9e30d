import { describe, expect, it } from 'vitest';
import { JobRefreshQueue } from '../../src/worker/job-refresh-queue.js';

/** Turns of the event loop run by hand. */
function turns() {
  const queued: Array<() => void> = [];
  return {
    timers: { setImmediate: (fn: () => void) => void queued.push(fn) as never },
    /** Runs the callbacks queued before this turn; returns how many ran. */
    turn(): number {
      const now = queued.splice(0);
      for (const fn of now) fn();
      return now.length;
    },
  };
}

describe('JobRefreshQueue', () => {
  it('refreshes thousands of jobs a slice per turn, each once however often it changed', async () => {
    const t = turns();
    const refreshed: string[] = [];
    const q = new JobRefreshQueue((job) => refreshed.push(job), t.timers, () => {}, 200);
    for (let i = 0; i < 1000; i++) q.add(`j${i}`);
    q.add('j0'); // changed again before its refresh: still once
    let idle = false;
    void q.idle().then(() => (idle = true));
    expect(refreshed).toEqual([]); // never on the caller's turn
    const perTurn: number[] = [];
    while (t.turn() > 0) perTurn.push(refreshed.length);
    expect(perTurn).toEqual([200, 400, 600, 800, 1000]);
    expect(new Set(refreshed).size).toBe(1000);
    await Promise.resolve();
    expect(idle).toBe(true);
    q.add('j5'); // a later change: refreshed again
    t.turn();
    expect(refreshed.at(-1)).toBe('j5');
  });

  it('a refresh that throws is reported and the others go on; close drops what is due and ends idle()', async () => {
    const t = turns();
    const refreshed: string[] = [];
    const errors: string[] = [];
    const q = new JobRefreshQueue(
      (job) => {
        if (job === 'bad') throw new Error('boom');
        refreshed.push(job);
      },
      t.timers,
      (err, job) => errors.push(`${job}: ${(err as Error).message}`),
      2,
    );
    for (const job of ['a', 'bad', 'b', 'c']) q.add(job);
    t.turn();
    expect(refreshed).toEqual(['a']);
    expect(errors).toEqual(['bad: boom']);
    const idle = q.idle();
    q.close();
    await idle;
    while (t.turn() > 0);
    expect(refreshed).toEqual(['a']);
    q.add('d');
    expect(t.turn()).toBe(0);
  });
});
