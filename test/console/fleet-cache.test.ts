import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetCache } from '../../src/console/fleet-cache.js';
import { OpenJobs } from '../../src/console/open-jobs.js';
import { encodeJob } from '../../src/model/job-record.js';
import { encodeProgress } from '../../src/model/progress-record.js';
import { encodeMemberInfo } from '../../src/membership/member-info.js';
import { LedgerWriter } from '../../src/executor/ledger-writer.js';
import { systemClock } from '../../src/clock/clock.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { jobView } from '../../src/api/fleet-views.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { ZkTimeoutError } from '../../src/zk/zk-errors.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';

const YEARLY = '0 0 0 1 1 *';
const FIRE = '2026-01-01T00:00:00.000Z';

/**
 * The console's copy of the fleet against a real ZooKeeper, with runs written the way a worker
 * writes them (its ledger and the item's progress in one multi, through a worker's ledger writer):
 * item nodes and the job's ledger parts are watched only for the jobs a browser has open; the
 * others are read by sweeps (or by a request's fresh read).
 */
describe('FleetCache: item watches for open jobs only, sweeps for the rest', () => {
  const ctx = new ZkTestContext('console-cache');
  const paths = ctx.paths;
  let zk: ZkClient;
  let writer: ZkClient;
  const caches: FleetCache[] = [];
  const MEMBER = 'm-x-0000000001';
  let ledger: LedgerWriter;

  const newCache = async (openJobs: OpenJobs, minIntervalMs: number, client: ZkClient = zk) => {
    const cache = new FleetCache(client, paths, silentLogger(), { openJobs, sweep: { minIntervalMs, busyShare: 0.5 } });
    caches.push(cache);
    await cache.start();
    return cache;
  };
  /** Begins a run of `job`'s `item` as a worker does; resolves with the multi's zxid (the fencing token). */
  const begin = async (job: string, item: number): Promise<string> => {
    const tx = ledger.transaction();
    tx.setData(paths.item(job, item), encodeProgress({ lastScheduled: FIRE, inFlight: { fireTime: FIRE, attempt: 1, member: MEMBER, worker: 'w1', startedAt: FIRE } }, MEMBER));
    ledger.change(tx, { begun: [{ job, item, fireMs: Date.parse(FIRE), attempt: 1, scheduled: true }] });
    const [written] = await ledger.commit(tx);
    return written!.stat!.mzxid.toString();
  };
  const end = async (job: string, item: number) => {
    const tx = ledger.transaction();
    tx.setData(paths.item(job, item), encodeProgress({ lastScheduled: FIRE, lastCompleted: FIRE, inFlight: null, outcome: 'failed', attempt: 1, worker: 'w1', durationMs: 5 }, MEMBER));
    ledger.change(tx, { ended: [{ job, item }] });
    await ledger.commit(tx);
  };
  /** Begins a run as a worker's steady begin does (run protocol v2, step 4c): its ledger alone. */
  const beginSteady = async (job: string, item: number, fireMs: number) => {
    const tx = ledger.transaction();
    ledger.change(tx, { begun: [{ job, item, fireMs, attempt: 1, scheduled: true }] });
    await ledger.commit(tx);
  };
  /** Ends it as a success's release does: its ledger alone, no record. */
  const succeed = async (job: string, item: number) => {
    const tx = ledger.transaction();
    ledger.change(tx, { ended: [{ job, item }] });
    await ledger.commit(tx);
  };
  /** Ends it as a failure's release does: the record with the ledger, in one multi. */
  const fail = async (job: string, item: number, fireMs: number) => {
    const tx = ledger.transaction();
    const at = new Date(fireMs).toISOString();
    tx.setData(paths.item(job, item), encodeProgress({ lastScheduled: at, lastCompleted: at, inFlight: null, outcome: 'failed', attempt: 1, worker: 'w1', durationMs: 5 }, MEMBER));
    ledger.change(tx, { ended: [{ job, item }] });
    await ledger.commit(tx);
  };
  const progressOf = (cache: FleetCache, job: string, item: number) => cache.job(job)?.items.find((i) => i.item === item)?.progress;
  const running = (cache: FleetCache, job: string, item: number) => cache.job(job)?.items.find((i) => i.item === item)?.run?.token ?? null;

  beforeAll(async () => {
    zk = await ctx.client();
    writer = await ctx.client();
    await writer.mkdirp(paths.workers);
    await writer.mkdirp(paths.drains);
    await writer.create(paths.member(MEMBER), encodeMemberInfo({ id: 'w1', host: 'h', pid: 1, jobs: ['a', 'b'], labels: {}, capacity: 1, state: 'active', startedAt: FIRE, version: 'test' }), 'ephemeral');
    ledger = new LedgerWriter({ zk: writer, paths, member: { name: MEMBER }, time: systemClock, log: silentLogger() });
    for (const job of ['a', 'b']) {
      await writer.mkdirp(paths.jobs);
      await writer.create(paths.job(job), encodeJob(testJob(job, { cron: YEARLY, shards: 2 })));
      await writer.create(paths.items(job));
      for (const item of [0, 1]) await writer.create(paths.item(job, item), encodeProgress({}));
    }
  });

  afterEach(async () => {
    for (const c of caches.splice(0)) c.close();
    for (const job of ['a', 'b']) {
      for (const item of [0, 1]) {
        if (ledger.inFlight(job).has(item)) await end(job, item);
        await writer.setData(paths.item(job, item), encodeProgress({}));
      }
    }
  });

  afterAll(async () => {
    ledger.close();
    await ctx.close();
  });

  it('watches the items of an open job (a run shows at once, with its fencing token); another job waits for its sweep or a fresh read', async () => {
    const open = new OpenJobs();
    const cache = await newCache(open, 60_000); // no sweep within the test
    expect(cache.watchedJobs).toEqual([]);
    open.acquire('a');
    expect(cache.watchedJobs).toEqual(['a']);
    const changed: string[] = [];
    cache.on('changed', ({ jobs }) => changed.push(...jobs));

    const tokenB = await begin('b', 1);
    const tokenA = await begin('a', 0);
    await waitFor(() => running(cache, 'a', 0) === tokenA, { timeoutMs: 10_000, message: "a's run seen through its watches" });
    // b's run began before a's, and a's was seen: b is not watched, so its run is not seen yet.
    expect(running(cache, 'b', 1)).toBeNull();
    expect(changed).not.toContain('b');
    // The job view (zkctl job --json shape) shows the token of the run in progress.
    const view = jobView(cache.snapshot(['a']), 'a');
    expect(view.items[0]).toMatchObject({ running: true, runningOn: 'w1', fencingToken: tokenA });
    expect(view.items[1]).toMatchObject({ running: false, fencingToken: null });

    // A request's fresh read of b sees its run, and tells the listeners.
    const fresh = await cache.fresh(['b']);
    expect(fresh.jobs[0]!.items[1]!.run?.token).toBe(tokenB);
    expect(changed).toContain('b');

    // The run of a ends: the watches see it.
    await end('a', 0);
    await waitFor(() => cache.job('a')?.items[0]?.progress.outcome === 'failed', { timeoutMs: 10_000, message: "a's run end seen" });
    expect(running(cache, 'a', 0)).toBeNull();

    open.release('a');
    expect(cache.watchedJobs).toEqual([]);
    // Closed again, a keeps what its watches saw last.
    expect(cache.job('a')?.items[0]?.progress.outcome).toBe('failed');
  });

  it('counts holders: the items stay watched until the last one lets go; a job opened before the cache starts is watched from the start', async () => {
    const open = new OpenJobs();
    open.acquire('b');
    const cache = await newCache(open, 60_000);
    expect(cache.watchedJobs).toEqual(['b']);
    open.acquire('b');
    open.release('b');
    expect(cache.watchedJobs).toEqual(['b']);
    const token = await begin('b', 0);
    await waitFor(() => running(cache, 'b', 0) === token, { timeoutMs: 10_000, message: "b's run seen through its watches" });
    open.release('b');
    expect(cache.watchedJobs).toEqual([]);
    open.release('b'); // one too many: nothing happens
    expect(open.names.size).toBe(0);
  });

  // The console bench warned "11 notification listeners added": every opening of a job page made
  // a new watch of the job's items, and a watch stays with the client until its node changes; the
  // item list of a job changes only on a reshard and an idle job's items only when it fires, so
  // each opening left one more registration on each of them (and kept the closed watch alive).
  it('opening and closing an idle job again and again sets no more watches than opening it once, and it is followed whenever open', async () => {
    const open = new OpenJobs();
    const cache = await newCache(open, 60_000);
    const manager = (zk as unknown as { cm: { watcherManager: Record<'childWatchers' | 'dataWatchers', Record<string, { listeners(e: string): unknown[] }>> } }).cm.watcherManager;
    const registrations = () => ({
      list: manager.childWatchers[paths.items('a')]?.listeners('notification').length ?? 0,
      items: (manager.dataWatchers[paths.item('a', 0)]?.listeners('notification').length ?? 0) + (manager.dataWatchers[paths.item('a', 1)]?.listeners('notification').length ?? 0),
    });
    const opening = async () => {
      open.acquire('a');
      await waitFor(() => cache.itemsWatched('a'), { timeoutMs: 10_000, message: "a's items watched" });
    };
    await opening();
    open.release('a');
    const once = registrations();
    for (let k = 0; k < 12; k++) {
      await opening();
      open.release('a');
    }
    expect(registrations()).toEqual(once);
    // Open again, it follows changes: a run, and a reshard's new item.
    await opening();
    const token = await begin('a', 1);
    await waitFor(() => running(cache, 'a', 1) === token, { timeoutMs: 10_000, message: "a's run seen through its watches" });
    await end('a', 1);
    await writer.create(paths.item('a', 2));
    await waitFor(() => cache.job('a')?.items.some((i) => i.item === 2) === true, { timeoutMs: 10_000, message: "a's new item seen" });
    await writer.remove(paths.item('a', 2));
    open.release('a');
    expect(cache.watchedJobs).toEqual([]);
  });

  it('sweeps the items of jobs no browser has open: runs that begin and end show within a sweep', async () => {
    const cache = await newCache(new OpenJobs(), 100);
    const token = await begin('b', 0);
    await waitFor(() => running(cache, 'b', 0) === token, { timeoutMs: 10_000, message: "b's run seen by a sweep" });
    await end('b', 0);
    await waitFor(() => cache.job('b')?.items[0]?.progress.outcome === 'failed' && running(cache, 'b', 0) === null, { timeoutMs: 10_000, message: "b's run end seen by a sweep" });
    expect(cache.watchedJobs).toEqual([]);
    expect(cache.lastSweepMs).toBeGreaterThanOrEqual(0);
  });

  it("a success its member's ledger alone recorded (no record written) shows at once as the item's last run: watched, and swept", async () => {
    const open = new OpenJobs();
    open.acquire('a');
    const cache = await newCache(open, 100);
    for (const job of ['a', 'b']) {
      // Whole seconds after the item nodes were made, as a schedule's instants are.
      const fireMs = Math.ceil(Date.now() / 1000) * 1000;
      const at = new Date(fireMs).toISOString();
      await beginSteady(job, 1, fireMs);
      await waitFor(() => cache.job(job)?.items[1]?.run?.fireTime === at, { timeoutMs: 10_000, message: `${job}'s steady run seen` });
      expect(progressOf(cache, job, 1)?.lastCompleted).toBeUndefined();
      await succeed(job, 1);
      await waitFor(() => progressOf(cache, job, 1)?.lastCompleted === at, { timeoutMs: 10_000, message: `${job}'s success seen` });
      expect(progressOf(cache, job, 1)).toMatchObject({ lastCompleted: at, outcome: 'success', attempt: 1, worker: 'w1' });
      expect(running(cache, job, 1)).toBeNull();
      // The next run fails: its release writes the record, which says so (never a success).
      await beginSteady(job, 1, fireMs + 1000);
      await fail(job, 1, fireMs + 1000);
      await waitFor(() => progressOf(cache, job, 1)?.lastCompleted === new Date(fireMs + 1000).toISOString(), { timeoutMs: 10_000, message: `${job}'s failure seen` });
      expect(progressOf(cache, job, 1)?.outcome).toBe('failed');
    }
  });

  it('a sweep whose read of one item fails (a timeout under load) still takes in the others', async () => {
    const failing = paths.item('b', 1);
    // The session, but every read of b's item 1 times out.
    const flaky = new Proxy(zk, {
      get(target, prop) {
        if (prop === 'getDataIfExists') {
          return (path: string, watcher?: Parameters<ZkClient['getDataIfExists']>[1]) => (path === failing
            ? Promise.reject(new ZkTimeoutError('ZK_TIMEOUT', `zk: getData ${path}: no answer (test)`, { path }))
            : target.getDataIfExists(path, watcher));
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const cache = await newCache(new OpenJobs(), 100, flaky);
    expect(cache.job('b')?.items.map((i) => i.exists)).toEqual([true, false]); // item 1 never read
    const token = await begin('b', 0);
    await waitFor(() => running(cache, 'b', 0) === token, { timeoutMs: 10_000, message: "b's item 0 seen by a sweep whose read of item 1 fails" });
  });
});
