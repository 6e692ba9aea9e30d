import { describe, expect, it, vi } from 'vitest';
import { PROGRESS_READS_MAX, ProgressCache } from '../../src/executor/progress-cache.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { silentLogger } from '../../src/logging/create-logger.js';

describe('ProgressCache', () => {
  // The first instant of a worker that just gained 20,000 items (10,000 jobs × 8 on 4 workers)
  // began them all at once, and each begin of an item not read yet read its record and history:
  // 40,000 reads sent at once, beside the takeovers' own.
  it('reads at most PROGRESS_READS_MAX items at once; the others wait their turn', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let inFlight = 0;
    let most = 0;
    const zk = {
      getDataIfExists: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await gate;
        inFlight--;
        return null;
      },
    };
    const cache = new ProgressCache(zk, new ZkPaths('ns'), silentLogger(), () => 0);
    const loads = Array.from({ length: 2000 }, (_, i) => cache.load('j', i));
    await vi.waitFor(() => expect(inFlight).toBe(2 * PROGRESS_READS_MAX)); // a record and a history each
    open();
    await Promise.all(loads);
    expect(most).toBe(2 * PROGRESS_READS_MAX);
    expect(cache.get('j', 1999)?.version).toBe(-1); // read: no such node
  });

  it('select gives the cached items its test keeps, with their keys', () => {
    const cache = new ProgressCache({ getDataIfExists: async () => null }, new ZkPaths('ns'), silentLogger(), () => 0);
    const entry = (historyDirty: boolean) => ({ record: {}, version: 0, historyVersion: -1, historyDirty });
    cache.set('a', 0, entry(true));
    cache.set('a', 1, entry(false));
    cache.set('b', 3, entry(true));
    const kept = cache.select((cached, job) => cached.historyDirty === true && job !== 'x');
    expect(kept.map(({ job, item }) => `${job}#${item}`)).toEqual(['a#0', 'b#3']);
    expect(kept[1]!.cached).toBe(cache.get('b', 3));
    expect(cache.select(() => false)).toEqual([]);
  });
});
