import { describe, expect, it } from 'vitest';
import { RefreshLoop, type RefreshLoopOptions } from '../../src/zk/refresh-loop.js';
import { ManualTimers, settle } from '../support/manual-timers.js';

/** A refresh whose runs the test ends one by one; counts runs and how many ran at once. */
class ControlledRefresh {
  readonly runs: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  active = 0;
  maxActive = 0;

  readonly fn = (): Promise<void> => {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise<void>((resolve, reject) => {
      this.runs.push({
        resolve: () => { this.active--; resolve(); },
        reject: (err) => { this.active--; reject(err); },
      });
    });
  };

  get count(): number {
    return this.runs.length;
  }

  async succeed(): Promise<void> {
    this.runs[this.runs.length - 1]!.resolve();
    await settle();
  }

  async fail(err = new Error('boom')): Promise<void> {
    this.runs[this.runs.length - 1]!.reject(err);
    await settle();
  }
}

function setup(options: RefreshLoopOptions = {}) {
  const timers = new ManualTimers();
  const refresh = new ControlledRefresh();
  const retries: Array<{ err: unknown; delayMs: number }> = [];
  const loop = new RefreshLoop(refresh.fn, {
    timers,
    backoff: { initialMs: 200, maxMs: 1600, random: () => 0.999999 },
    onRetry: (err, delayMs) => retries.push({ err, delayMs }),
    ...options,
  });
  return { timers, refresh, retries, loop };
}

describe('RefreshLoop', () => {
  it('runs at once when idle; requests during a run make exactly one more run, never two at once', async () => {
    const { refresh, loop, timers } = setup();
    const first = loop.request();
    expect(refresh.count).toBe(1);
    expect(loop.running).toBe(true);
    const during = [loop.request(), loop.request(), loop.request()];
    await settle();
    expect(refresh.count).toBe(1); // coalesced while the first runs
    await refresh.succeed();
    await first;
    expect(refresh.count).toBe(2); // exactly one more
    let served = false;
    void Promise.all(during).then(() => (served = true));
    await settle();
    expect(served).toBe(false); // the requests made during run 1 are served by run 2
    await refresh.succeed();
    expect(served).toBe(true);
    await timers.advance(10_000);
    expect(refresh.count).toBe(2);
    expect(refresh.maxActive).toBe(1);
    expect(loop.running).toBe(false);
  });

  it('is idle only when no run is in progress, about to start, or waiting for a retry; onIdle says when it becomes so', async () => {
    let idled = 0;
    const { refresh, loop, timers } = setup({ onIdle: () => idled++ });
    expect(loop.idle).toBe(true);
    void loop.request();
    expect(loop.idle).toBe(false);
    void loop.request(); // asked for during the run: one more run follows
    await refresh.fail();
    expect(loop.idle).toBe(false); // waiting for the retry
    await timers.advance(200);
    expect(refresh.count).toBe(2);
    await refresh.succeed();
    expect([loop.idle, idled]).toEqual([true, 1]);
    void loop.request();
    void loop.request();
    await refresh.succeed();
    expect([loop.idle, idled]).toEqual([false, 1]); // the second request's run
    await refresh.succeed();
    expect([loop.idle, idled]).toEqual([true, 2]);
  });

  it('whenIdle waits for the loop to be idle without asking for a run: through a retry, and at once when idle or closed', async () => {
    const { refresh, loop, timers } = setup();
    await loop.whenIdle(); // idle: at once, no run
    expect(refresh.count).toBe(0);
    void loop.request();
    let idle = false;
    void loop.whenIdle().then(() => (idle = true));
    await refresh.fail();
    expect(idle).toBe(false); // waiting for the retry
    await timers.advance(200);
    await refresh.succeed();
    expect(idle).toBe(true);
    expect(refresh.count).toBe(2); // whenIdle made no run of its own
    void loop.request();
    let closed = false;
    void loop.whenIdle().then(() => (closed = true));
    loop.close();
    await settle();
    expect(closed).toBe(true);
  });

  it('a request after a run ended starts a new run', async () => {
    const { refresh, loop } = setup();
    void loop.request();
    await refresh.succeed();
    void loop.request();
    expect(refresh.count).toBe(2);
  });

  it('the refresh itself may ask for another run (it saw a change meanwhile)', async () => {
    const timers = new ManualTimers();
    let runs = 0;
    const loop: RefreshLoop = new RefreshLoop(async () => {
      runs++;
      if (runs === 1) void loop.request();
    }, { timers });
    await loop.request();
    await settle();
    expect(runs).toBe(2);
  });

  it('retries a failure after a jittered backoff that doubles up to its bound, and resets on success', async () => {
    const { refresh, loop, retries, timers } = setup();
    const started = loop.request();
    const err = new Error('connection loss');
    await refresh.fail(err);
    await started; // a request is served by a failed run too
    expect(retries).toEqual([{ err, delayMs: 200 }]);
    await timers.advance(199);
    expect(refresh.count).toBe(1); // not before the delay
    await timers.advance(1);
    expect(refresh.count).toBe(2);
    const expected = [400, 800, 1600, 1600]; // bounded by maxMs
    for (const delayMs of expected) {
      await refresh.fail();
      expect(retries.at(-1)!.delayMs).toBe(delayMs);
      await timers.advance(delayMs - 1);
      const before = refresh.count;
      await timers.advance(1);
      expect(refresh.count).toBe(before + 1);
    }
    await refresh.succeed();
    void loop.request();
    await refresh.fail();
    expect(retries.at(-1)!.delayMs).toBe(200); // reset by the success
    expect(refresh.maxActive).toBe(1);
    loop.close();
  });

  it('requests made while a retry waits are served by that retry, not earlier', async () => {
    const { refresh, loop, timers } = setup();
    void loop.request();
    await refresh.fail();
    const waiting = loop.request();
    void loop.request();
    await settle();
    expect(refresh.count).toBe(1);
    let served = false;
    void waiting.then(() => (served = true));
    await timers.advance(200);
    expect(refresh.count).toBe(2);
    await refresh.succeed();
    expect(served).toBe(true);
    await timers.advance(10_000);
    expect(refresh.count).toBe(2);
  });

  it('does not retry a final failure, and leaves no timer', async () => {
    class SessionEnded extends Error {}
    const { refresh, loop, retries, timers } = setup({ isFinal: (err) => err instanceof SessionEnded });
    void loop.request();
    await refresh.fail(new SessionEnded('closed'));
    expect(retries).toEqual([]);
    expect(timers.pending).toBe(0);
    await timers.advance(10_000);
    expect(refresh.count).toBe(1);
  });

  it('close() cancels a pending retry, serves every waiting request, and nothing runs after it', async () => {
    const { refresh, loop, timers } = setup();
    void loop.request();
    await refresh.fail();
    expect(timers.pending).toBe(1);
    const waiting = loop.request();
    loop.close();
    loop.close(); // idempotent
    expect(timers.pending).toBe(0);
    await waiting; // resolved by close
    await loop.request(); // resolves at once, runs nothing
    await timers.advance(10_000);
    expect(refresh.count).toBe(1);
    expect(loop.closed).toBe(true);
  });

  it('close() during a run: the run ends, no further run, no retry of its failure', async () => {
    const { refresh, loop, retries, timers } = setup();
    const first = loop.request();
    void loop.request();
    loop.close();
    await refresh.fail();
    await first;
    await timers.advance(10_000);
    expect(refresh.count).toBe(1);
    expect(retries).toEqual([]);
    expect(timers.pending).toBe(0);
  });

  it('maxBackToBack: after that many runs back to back the next waits the pause, which serves the requests made meanwhile', async () => {
    const { refresh, loop, timers, retries } = setup({ maxBackToBack: { runs: 3, pauseMs: 250 } });
    void loop.request();
    for (let k = 1; k <= 3; k++) {
      void loop.request(); // a change while run k runs
      await refresh.succeed();
    }
    expect(refresh.count).toBe(3); // runs 1–3 back to back; the 4th waits
    expect(loop.running).toBe(false);
    const waiting = loop.request();
    await timers.advance(249);
    expect(refresh.count).toBe(3);
    await timers.advance(1);
    expect(refresh.count).toBe(4);
    let served = false;
    void waiting.then(() => (served = true));
    // The pause starts a new streak: 3 more back to back.
    void loop.request();
    await refresh.succeed();
    expect(served).toBe(true);
    void loop.request();
    await refresh.succeed();
    expect(refresh.count).toBe(6);
    await refresh.succeed(); // nothing asked for meanwhile: idle, and the streak ends
    void loop.request();
    expect(refresh.count).toBe(7);
    expect(retries).toEqual([]); // a pause is not a retry
    expect(refresh.maxActive).toBe(1);
    expect(() => new RefreshLoop(refresh.fn, { maxBackToBack: { runs: 0, pauseMs: 1 } })).toThrow(RangeError);
    loop.close();
  });

  it('deferred: the requests of one turn start one run, on the next turn', async () => {
    const { refresh, loop, timers } = setup({ deferred: true });
    void loop.request();
    void loop.request();
    void loop.request();
    expect(refresh.count).toBe(0);
    await timers.advance(0);
    expect(refresh.count).toBe(1);
    await refresh.succeed();
    await timers.advance(10_000);
    expect(refresh.count).toBe(1);
  });
});
