import { afterEach, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { Fleet, fleetConfig, RECORD_HANDLER, type RunRecord, type WorkerProcess } from '../../support/worker-process.js';
import { ZkTestContext } from '../../support/zk-test-client.js';
import { zkConnect } from '../../support/zk-connect.js';
import { waitFor } from '../../support/wait-for.js';

const BUSY_HANDLER = resolve(import.meta.dirname, '..', '..', 'fixtures', 'handlers', 'busy.js');
const SESSION_TIMEOUT_MS = 3000;
/** The lateness a 1-second neighbour keeps on this shared 2-core machine when nothing starves it. */
const NORMAL_LATENESS_MS = 500;

/**
 * One worker process, two jobs firing every second: `busy` spins its event loop for `busyMs`
 * (in the worker's own loop, or in a sandbox), `tick` records when each of its fires started.
 * Returns the busy run and the lateness of every `tick` fire due while it spun (Infinity: never ran).
 */
async function neighbourDuring(ctx: ZkTestContext, fleetRef: { fleet?: Fleet }, sandbox: 'none' | 'thread', busyMs: number) {
  const fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [
    { name: 'busy', cron: '* * * * * *', shards: 1, handler: BUSY_HANDLER, jobParameter: `busyMs=${busyMs}`, sandbox },
    { name: 'tick', cron: '* * * * * *', shards: 1, handler: RECORD_HANDLER },
  ], SESSION_TIMEOUT_MS));
  fleetRef.fleet = fleet;
  const worker = fleet.start('w1');
  const busyRun = (r: RunRecord[], event: string) => r.find((x) => x.job === 'busy' && x.event === event);
  await fleet.waitForRecords((r) => !!busyRun(r, 'start'), 'the busy run started', 20_000);
  await fleet.waitForRecords((r) => !!busyRun(r, 'end'), 'the busy run ended', busyMs + 10_000);
  const records = fleet.records();
  const start = busyRun(records, 'start')!;
  const end = busyRun(records, 'end')!;
  // Every second the neighbour was due while the handler spun (a margin at both ends).
  const lateness: number[] = [];
  for (let fire = Math.ceil((start.at + 200) / 1000) * 1000; fire <= end.at - 200; fire += 1000) {
    const run = records.find((x) => x.job === 'tick' && x.event === 'start' && Date.parse(x.fire) === fire);
    lateness.push(run ? run.at - fire : Infinity);
  }
  console.log(sandbox, 'lateness', lateness);
  return { worker, start, end, lateness };
}

const rejoined = (w: WorkerProcess) => w.logLines().some((l) => l.msg === 'worker state' && l.state === 'rejoining');

describe('a CPU-bound handler next to a job firing every second (worker process, 3 s session)', () => {
  let ctx: ZkTestContext | undefined;
  const ref: { fleet?: Fleet } = {};
  afterEach(async () => {
    await ref.fleet?.close();
    ref.fleet = undefined;
    await ctx?.close();
  });

  it('in-process (sandbox: none): the neighbour\'s fires are late by seconds or lost, and the worker loses its session', async () => {
    ctx = new ZkTestContext('sandbox-cpu-none');
    const { worker, start, end, lateness } = await neighbourDuring(ctx, ref, 'none', 4000);
    expect(start.threadId).toBe(0); // the worker's main thread
    expect(end.at - start.at).toBeGreaterThanOrEqual(4000);
    expect(lateness.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lateness)).toBeGreaterThan(2000);
    // Its lease ran out while the loop spun: once the handler returns, the worker sees it and rejoins.
    await waitFor(() => rejoined(worker), { timeoutMs: 5000, message: 'the worker rejoined as a new member' });
  });

  it('sandbox: thread: a 10 s busy loop leaves the neighbour on time and the session intact', async () => {
    ctx = new ZkTestContext('sandbox-cpu-thread');
    const { worker, start, end, lateness } = await neighbourDuring(ctx, ref, 'thread', 10_000);
    expect(start.pid).toBe(worker.pid);
    expect(start.threadId).toBeGreaterThan(0); // a worker thread
    expect(end.at - start.at).toBeGreaterThanOrEqual(10_000);
    expect(end.attempt).toBe(1);
    expect(lateness.length).toBeGreaterThanOrEqual(8); // every fire due in the window ran ...
    // ... on time: in-process, every one of them is lost or seconds late. A full `npm test` on a
    // fresh clone (2026-12-04) once saw one fire of nine 783 ms late, the others 0–2 ms: the suite's
    // own parallel files starve the machine now and then, so one such fire is allowed, not more,
    // and none near the session timeout.
    const late = lateness.filter((l) => l >= NORMAL_LATENESS_MS);
    expect(late.length).toBeLessThanOrEqual(1);
    expect(Math.max(...lateness)).toBeLessThan(SESSION_TIMEOUT_MS / 2);
    expect(rejoined(worker)).toBe(false);
  });
});
