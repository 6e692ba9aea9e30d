import { describe, expect, it } from 'vitest';
import { HISTORY_RELEASE_HORIZON_MS, HISTORY_WRITE_INTERVAL_MS, HISTORY_WRITES_PER_SECOND, ItemHistoryWriter, historyIntervalMs } from '../../src/executor/item-history-writer.js';
import { ZkTransaction } from '../../src/zk/zk-transaction.js';
import { ProgressCache } from '../../src/executor/progress-cache.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { systemClock, type Clock } from '../../src/clock/clock.js';
import type { MultiCommitter } from '../../src/zk/batched-multi.js';

describe('ItemHistoryWriter', () => {
  it('writes an item\'s success history every HISTORY_WRITE_INTERVAL_MS, longer once its worker holds more items than it writes in that time', () => {
    expect(historyIntervalMs(0)).toBe(HISTORY_WRITE_INTERVAL_MS);
    expect(historyIntervalMs((HISTORY_WRITE_INTERVAL_MS / 1000) * HISTORY_WRITES_PER_SECOND)).toBe(HISTORY_WRITE_INTERVAL_MS);
    // 10,000 jobs × 8 items on 4 workers: 20,000 items a worker, each written every 200 s (100 a second).
    expect(historyIntervalMs(20_000)).toBe(200_000);
  });

  it('dates the next write of a history by the items its worker has cached', () => {
    const now = 1_000_000;
    const time: Clock = { ...systemClock, now: () => now };
    const cache = new ProgressCache({ getDataIfExists: async () => null }, new ZkPaths('h'), silentLogger(), () => now);
    const writer = new ItemHistoryWriter({} as MultiCommitter, new ZkPaths('h'), cache, () => false, silentLogger(), time);
    expect(writer.nextDueAt()).toBe(now + HISTORY_WRITE_INTERVAL_MS);
    for (let item = 0; item < 3000; item++) cache.set('j', item, { record: {}, version: 0, historyVersion: -1 });
    expect(writer.nextDueAt()).toBe(now + 30_000);
  });

  it('sweeps the due histories of items that do not fire here soon, and leaves those that do to their next release', async () => {
    const now = 1_000_000;
    let tick: (() => void) | undefined;
    const time: Clock = { ...systemClock, now: () => now, setInterval: (fn) => ((tick = fn), { unref: () => undefined }), clearInterval: () => undefined };
    const paths = new ZkPaths('h');
    const written: string[] = [];
    const zk: MultiCommitter = {
      transaction: () => new ZkTransaction(),
      commit: async (tx) => {
        written.push(...tx.ops.map((o) => o.path));
        return tx.ops.map((o) => ({ type: o.type, stat: { version: 0 } }) as never);
      },
    };
    const cache = new ProgressCache({ getDataIfExists: async () => null }, paths, silentLogger(), () => now);
    // Item 0 fires again within the horizon; item 1 in twice the horizon; item 2 is not this worker's to fire.
    const nextFire = [now + HISTORY_RELEASE_HORIZON_MS - 1, now + 2 * HISTORY_RELEASE_HORIZON_MS, undefined];
    const asked: Array<[number, number]> = [];
    const firesWithin = (_job: string, item: number, withinMs: number): boolean => {
      asked.push([item, withinMs]);
      const at = nextFire[item];
      return at !== undefined && at <= now + withinMs;
    };
    const writer = new ItemHistoryWriter(zk, paths, cache, () => false, silentLogger(), time, firesWithin);
    for (let item = 0; item < 3; item++) {
      cache.set('j', item, { record: { recent: [{ fireTime: '2026-12-05T00:00:00.000Z', outcome: 'success', attempt: 1, worker: 'w', durationMs: 1, at: '2026-12-05T00:00:00.001Z' }] }, version: 0, historyVersion: -1, historyDirty: true, historyDueAt: now - 60_000 });
    }
    writer.start();
    tick!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.sort()).toEqual([paths.history('j', 1), paths.history('j', 2)]);
    expect(asked.every(([, ms]) => ms === HISTORY_RELEASE_HORIZON_MS)).toBe(true);
    writer.close();
  });
});
