import { describe, expect, it } from 'vitest';
import { HISTORY_WRITE_INTERVAL_MS, HISTORY_WRITES_PER_SECOND, ItemHistoryWriter, historyIntervalMs } from '../../src/executor/item-history-writer.js';
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
});
