import { describe, expect, it } from 'vitest';
import { MAX_PREPARE_LEAD_MS, MIN_PREPARE_LEAD_MS, type FireRequest } from '../../src/executor/executor.js';
import { systemClock } from '../../src/clock/clock.js';
import type { BeginRequest, BeginResult, ReleaseRequest } from '../../src/executor/run-ledger.js';
import type { JobContext } from '../../src/executor/job-context.js';
import { waitFor } from '../support/wait-for.js';
import { ledgerExecutor } from '../support/ledger-executor.js';

/** A ledger that grants every begin at once and records what it was asked (no ZooKeeper: this is about timing). */
class RecordingLedger {
  readonly begins: Array<{ at: number; requests: BeginRequest[] }> = [];
  readonly releases: ReleaseRequest[] = [];
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    this.begins.push({ at: Date.now(), requests: [...requests] });
    return requests.map(() => ({ status: 'started', token: '1', notes: {} }));
  }
  async release(req: ReleaseRequest): Promise<boolean> {
    this.releases.push(req);
    return true;
  }
  async recordAttempt(): Promise<void> {}
}

function setUp(handler: (ctx: JobContext) => Promise<void> | void, leaseHeld?: () => boolean) {
  const ledger = new RecordingLedger();
  return { ledger, executor: ledgerExecutor(ledger, handler, { leaseHeld }) };
}

const request = (item: number, fireTime: Date): FireRequest => ({ job: 'j', item, fireTime, attempt: 1, reason: 'schedule' });

describe('Executor: fires prepared ahead of their instant', () => {
  it('takes the markers now and enters the handlers at the fire time, not before', async () => {
    const entries: number[] = [];
    const { ledger, executor } = setUp(() => void entries.push(Date.now()));
    const fireTime = new Date(Date.now() + 300);
    await executor.fire([request(0, fireTime), request(1, fireTime)]);
    expect(ledger.begins).toHaveLength(1); // one begin for the batch, before the instant
    expect(ledger.begins[0]!.at).toBeLessThan(fireTime.getTime());
    expect(entries).toEqual([]);
    expect(executor.isBusy('j', 0)).toBe(true); // the item is taken from the begin on
    await waitFor(() => entries.length === 2, { message: 'both handlers entered' });
    for (const at of entries) expect(at).toBeGreaterThanOrEqual(fireTime.getTime());
    await waitFor(() => ledger.releases.length === 2, { message: 'both released' });
    expect(ledger.releases.every((r) => r.outcome === 'success' && !r.keepInFlight)).toBe(true);
  });

  it('tells each handler when it was entered (ctx.startedAt): at or after the fire time, no later than its own first reading', async () => {
    const seen: Array<{ startedAt: number; again: number; own: number }> = [];
    const { ledger, executor } = setUp((ctx) => {
      const own = Date.now();
      seen.push({ startedAt: ctx.startedAt.getTime(), again: ctx.startedAt.getTime(), own });
    });
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([request(0, fireTime), request(1, fireTime)]);
    await waitFor(() => ledger.releases.length === 2, { message: 'both released' });
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.startedAt).toBeGreaterThanOrEqual(fireTime.getTime());
      expect(s.startedAt).toBeLessThanOrEqual(s.own);
      expect(s.again).toBe(s.startedAt);
    }
  });

  it('counts its items running (or being begun) by job, and none once they are released', async () => {
    const { ledger, executor } = setUp(() => undefined);
    expect([...executor.runningCounts()]).toEqual([]);
    await executor.fire([request(0, new Date(Date.now() + 200)), request(1, new Date(Date.now() + 200))]);
    expect([...executor.runningCounts()]).toEqual([['j', 2]]);
    await waitFor(() => ledger.releases.length === 2, { message: 'both released' });
    await waitFor(() => executor.runningCounts().size === 0, { message: 'both items freed' });
  });

  it('does not begin a fire early for an item still running: it goes through the overlap policy at its instant', async () => {
    let finish: () => void = () => {};
    const running = new Promise<void>((resolve) => (finish = resolve));
    const { ledger, executor } = setUp((ctx) => (ctx.fireTime.getTime() < Date.now() - 1000 ? running : undefined));
    const notStarted: string[] = [];
    executor.on('notStarted', (req, why) => notStarted.push(`${req.fireTime.getTime()}:${why}`));
    await executor.fire([request(0, new Date(Date.now() - 2000))]); // still running
    const next = new Date(Date.now() + 200);
    await executor.fire([request(0, next)]);
    expect(ledger.begins).toHaveLength(1); // nothing begun early for the busy item
    await waitFor(() => notStarted.length === 1, { message: 'the prepared fire handled at its instant' });
    expect(notStarted).toEqual([`${next.getTime()}:overlap`]); // overlap: skip (the default)
    finish();
    await waitFor(() => ledger.releases.length === 1, { message: 'the first run released' });
  });

  it('gives a prepared run back, in flight, when the executor is stopped before its instant', async () => {
    const entries: number[] = [];
    const { ledger, executor } = setUp(() => void entries.push(Date.now()));
    await executor.fire([request(0, new Date(Date.now() + 300))]);
    executor.abortAll(new Error('stopped')); // not a lease loss: the ledger is still usable
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(entries).toEqual([]); // the handler never ran
    expect(ledger.releases[0]).toMatchObject({ outcome: 'interrupted', keepInFlight: true });
  });
});

describe('Executor: the lease is asked for right before a handler is entered', () => {
  it('enters no handler when the lease went meanwhile (a stalled event loop hid it from the watchdog): every run aborted, nothing recorded', async () => {
    const entries: number[] = [];
    let held = true;
    const { ledger, executor } = setUp(() => void entries.push(Date.now()), () => held);
    const finished: string[] = [];
    executor.on('finished', (r) => finished.push(r.outcome));
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([request(0, fireTime), request(1, fireTime)]);
    expect(ledger.begins).toHaveLength(1);
    held = false; // the lease is gone before the instant, and nothing told the executor yet
    await waitFor(() => finished.length === 2, { message: 'both runs settled' });
    expect(entries).toEqual([]);
    expect(finished).toEqual(['interrupted', 'interrupted']);
    expect(ledger.releases).toEqual([]); // no write without the lease: the next owner sees the fires in flight
    // And nothing new starts.
    await executor.fire([request(0, new Date(Date.now() + 50))]);
    expect(ledger.begins).toHaveLength(1);
  });

  it('asks once for all the runs of an instant begun ahead of it, which are then entered in one turn', async () => {
    const entries: number[] = [];
    let asked = 0;
    const { ledger, executor } = setUp(() => void entries.push(Date.now()), () => (asked++, true));
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([0, 1, 2, 3, 4, 5, 6, 7].map((i) => request(i, fireTime)));
    await waitFor(() => ledger.releases.length === 8, { message: 'all eight released' });
    expect(entries).toHaveLength(8);
    expect(asked).toBe(1);
  });

  it('asks again while entering an instant takes long (thousands of items), and enters nothing once the lease is gone', async () => {
    const busyMs = 3; // each handler holds the event loop this long: 8 of them hold it 24 ms
    const entries: number[] = [];
    let asked = 0;
    let held = true;
    const { ledger, executor } = setUp(
      (ctx) => {
        entries.push(ctx.item);
        const until = performance.now() + busyMs;
        while (performance.now() < until);
        if (entries.length === 3) held = false; // the lease runs out in the middle of the instant
      },
      () => (asked++, held),
    );
    const finished: string[] = [];
    executor.on('finished', (r) => finished.push(r.outcome));
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([0, 1, 2, 3, 4, 5, 6, 7].map((i) => request(i, fireTime)));
    await waitFor(() => finished.length === 8, { message: 'all eight settled' });
    expect(asked).toBeGreaterThan(1);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(entries.length).toBeLessThan(8); // asked again before the rest: they were not entered
    expect(finished).toEqual(Array(8).fill('interrupted')); // the lease went before any outcome could be written
    expect(ledger.releases).toEqual([]);
  });
});

describe('Executor: the gate of an instant', () => {
  it('a run that cannot be checked at its gate (the fence check throws) is not entered and frees its item; the other runs of the instant are entered', async () => {
    const entries: number[] = [];
    const ledger = new RecordingLedger();
    const executor = ledgerExecutor(
      Object.assign(ledger, {
        fenceMoved: (_job: string, item: number): boolean => {
          if (item === 1) throw new Error('fence unreadable');
          return false;
        },
      }),
      (ctx) => void entries.push(ctx.item),
    );
    const failures: unknown[] = [];
    const onRejection = (err: unknown): void => void failures.push(err);
    process.on('unhandledRejection', onRejection);
    try {
      const fireTime = new Date(Date.now() + 200);
      await executor.fire([0, 1, 2].map((i) => request(i, fireTime)));
      await waitFor(() => ledger.releases.length === 2, { message: 'the two others released' });
      expect(entries.sort()).toEqual([0, 2]);
      await waitFor(() => !executor.isBusy('j', 1), { message: 'item 1 freed' });
      await waitFor(() => failures.length === 1, { message: 'its failure reported' });
      expect((failures[0] as Error).message).toBe('fence unreadable');
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

describe('Executor: the entries of an instant', () => {
  it('enters every handler of the instant before it tells any run started or waits for any outcome', async () => {
    const seen: number[] = [];
    let started = 0;
    const { ledger, executor } = setUp(() => void seen.push(started));
    executor.on('started', () => started++);
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([0, 1, 2, 3].map((i) => request(i, fireTime)));
    await waitFor(() => ledger.releases.length === 4, { message: 'all four released' });
    expect(seen).toEqual([0, 0, 0, 0]); // nothing of the executor's between two entries
    expect(started).toBe(4);
  });

  it('a handler that throws before its first await, or fails at once, fails its own run only, with no unhandled rejection; the others of the instant succeed', async () => {
    const { ledger, executor } = setUp(async (ctx) => {
      if (ctx.item === 1) throw new Error('bad item');
      if (ctx.item === 3) throw new Error('rejected at once');
    });
    const unhandled: unknown[] = [];
    const onRejection = (err: unknown): void => void unhandled.push(err);
    process.on('unhandledRejection', onRejection);
    try {
      const fireTime = new Date(Date.now() + 200);
      await executor.fire([0, 1, 2, 3].map((i) => request(i, fireTime)));
      await waitFor(() => ledger.releases.length === 4, { message: 'all four released' });
      const byItem = new Map(ledger.releases.map((r) => [r.item, r]));
      expect(byItem.get(1)).toMatchObject({ outcome: 'failed', error: 'bad item' });
      expect(byItem.get(3)).toMatchObject({ outcome: 'failed', error: 'rejected at once' });
      expect([byItem.get(0)?.outcome, byItem.get(2)?.outcome]).toEqual(['success', 'success']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('drains runs begun ahead of their instant: drain settles once their releases are written', async () => {
    const { ledger, executor } = setUp(() => undefined);
    await executor.fire([0, 1].map((i) => request(i, new Date(Date.now() + 150))));
    await executor.drain(5000);
    expect(ledger.releases.map((r) => `${r.item}:${r.outcome}`).sort()).toEqual(['0:success', '1:success']);
  });

  it('drain settles only once the releases are written, not when the handlers end', async () => {
    const ledger = new RecordingLedger();
    const written: Array<() => void> = [];
    ledger.release = (req) => {
      ledger.releases.push(req);
      return new Promise<boolean>((resolve) => written.push(() => resolve(true)));
    };
    const executor = ledgerExecutor(ledger, () => undefined);
    const finished: number[] = [];
    executor.on('finished', (r) => finished.push(r.item));
    await executor.fire([0, 1].map((i) => request(i, new Date(Date.now() + 100))));
    await waitFor(() => ledger.releases.length === 2, { message: 'both handlers ended, their releases asked' });
    let drained = false;
    const drain = executor.drain(5000).then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 50)); // what drain would need to settle early
    expect([drained, finished]).toEqual([false, []]);
    written.shift()!();
    await waitFor(() => finished.length === 1, { message: 'the first release told' });
    expect(drained).toBe(false);
    written.shift()!();
    await drain;
    expect(finished.sort()).toEqual([0, 1]);
  });

  it('times a run entered at its gate out after timeoutMs', async () => {
    const ledger = new RecordingLedger();
    const executor = ledgerExecutor(ledger, (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())), { job: { timeoutMs: 100 } });
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([request(0, fireTime)]);
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(ledger.releases[0]).toMatchObject({ outcome: 'timeout' });
    expect(Date.now() - fireTime.getTime()).toBeGreaterThanOrEqual(100);
  });

  it('retries a run entered at its gate whose first attempt failed', async () => {
    const attempts: number[] = [];
    const ledger = new RecordingLedger();
    const executor = ledgerExecutor(
      ledger,
      (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) return Promise.reject(new Error('first fails'));
      },
      { job: { retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 10 } } },
    );
    await executor.fire([request(0, new Date(Date.now() + 200))]);
    await waitFor(() => ledger.releases.length === 1, { message: 'released' });
    expect(attempts).toEqual([1, 2]);
    expect(ledger.releases[0]).toMatchObject({ outcome: 'success', attempt: 2 });
  });
});

/** A ledger whose fence moved before the instant (our member node written since the begin), with the items' markers as `markers` says. */
class FencedLedger extends RecordingLedger {
  moved = false;
  readonly confirmed: number[] = [];
  constructor(private readonly markers: (item: number) => boolean | Error) {
    super();
  }
  fenceMoved(): boolean {
    return this.moved;
  }
  async confirmFence(_job: string, item: number): Promise<boolean> {
    this.confirmed.push(item);
    const held = this.markers(item);
    if (held instanceof Error) throw held;
    return held;
  }
}

describe('Executor: a run begun ahead whose fence moved before its instant', () => {
  it('enters no handler whose marker a forced remove or reshard deleted meanwhile, writes nothing for it, and enters the others', async () => {
    const entries: number[] = [];
    const ledger = new FencedLedger((item) => item !== 1); // item 1's marker went with the operator's fence
    const executor = ledgerExecutor(ledger, (ctx) => void entries.push(ctx.item));
    const settled: string[] = [];
    executor.on('finished', (r) => settled.push(`${r.item}:${r.outcome}`));
    executor.on('notStarted', (r, why) => settled.push(`${r.item}:not started (${why})`));
    const fireTime = new Date(Date.now() + 200);
    await executor.fire([request(0, fireTime), request(1, fireTime)]);
    ledger.moved = true; // the fence moves before the instant (the member node's watch said so)
    await waitFor(() => settled.length === 2, { message: 'both runs settled' });
    expect(ledger.confirmed.sort()).toEqual([0, 1]);
    expect(entries).toEqual([0]);
    // The fire is left in flight: the scheduler takes the item over (if it is still ours) and runs it again.
    expect(settled.sort()).toEqual(['0:success', '1:not started (takeover)']);
    expect(ledger.releases.map((r) => r.item)).toEqual([0]); // nothing written for the run whose marker is gone
  });

  it('gives the run back, in flight, when its marker cannot be read', async () => {
    const entries: number[] = [];
    const ledger = new FencedLedger(() => new Error('connection lost'));
    const executor = ledgerExecutor(ledger, (ctx) => void entries.push(ctx.item));
    await executor.fire([request(0, new Date(Date.now() + 200))]);
    ledger.moved = true;
    await waitFor(() => ledger.releases.length === 1, { message: 'given back' });
    expect(entries).toEqual([]);
    expect(ledger.releases[0]).toMatchObject({ item: 0, outcome: 'interrupted', keepInFlight: true });
  });

  it('reads no marker while the fence stays where the run began', async () => {
    const entries: number[] = [];
    const ledger = new FencedLedger(() => false);
    const executor = ledgerExecutor(ledger, (ctx) => void entries.push(ctx.item));
    await executor.fire([request(0, new Date(Date.now() + 100)), request(1, new Date(Date.now() + 100))]);
    await waitFor(() => ledger.releases.length === 2, { message: 'both released' });
    expect(entries.sort()).toEqual([0, 1]);
    expect(ledger.confirmed).toEqual([]);
  });
});

describe('Executor: how far ahead of its instant a batch is begun', () => {
  it('at least 250 ms ahead, so that begins of 50–70 ms (1,000 jobs × 8 items on four workers sharing two cores) end well before it; twice the slowest recent begin when that is more, at most 500 ms', async () => {
    // The begins take `beginMs` on the executor's monotonic clock (the lead is sized from them).
    let monotonicMs = 0;
    let beginMs = 0;
    const clock = { ...systemClock, monotonic: () => monotonicMs };
    const ledger = new RecordingLedger();
    const begin = ledger.begin.bind(ledger);
    ledger.begin = async (requests) => {
      monotonicMs += beginMs;
      return begin(requests);
    };
    const executor = ledgerExecutor(ledger, () => undefined, { clock });
    const leadAfterBeginOf = async (ms: number): Promise<number> => {
      beginMs = ms;
      await executor.fire([request(ledger.begins.length, new Date(Date.now() - 1000))]);
      return executor.prepareLeadMs();
    };
    expect(executor.prepareLeadMs()).toBe(250); // no begin yet
    expect(MIN_PREPARE_LEAD_MS).toBe(250);
    // Before: 120 ms, and four workers' begin work ran up to the instant.
    expect(await leadAfterBeginOf(60)).toBe(250);
    expect(await leadAfterBeginOf(200)).toBe(400);
    expect(await leadAfterBeginOf(400)).toBe(MAX_PREPARE_LEAD_MS);
    await waitFor(() => ledger.releases.length === 3, { message: 'the three runs released' });
  });
});
