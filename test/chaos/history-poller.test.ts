import { describe, expect, it } from 'vitest';
import { HistoryPoller } from '../../chaos/history-poller.js';
import { encodeHistory, type RecentOutcome } from '../../src/model/progress-record.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';

const paths = new ZkPaths('chaos');
const jobs = [{ name: 'alpha', cron: '* * * * * *', shards: 2 }];
const T = Date.UTC(2026, 0, 1);
const iso = (s: number): string => new Date(T + s * 1000).toISOString();

const missed = (latestS: number, count: number, worker = 'w1'): RecentOutcome =>
  ({ fireTime: iso(latestS), outcome: 'missed', attempt: 0, worker, at: iso(latestS + 0.5), error: `${count} fire(s) missed` });
const success = (s: number): RecentOutcome =>
  ({ fireTime: iso(s), outcome: 'success', attempt: 1, worker: 'w1', at: iso(s + 0.3), durationMs: 300, startedAt: iso(s) });

/** A fake ZooKeeper: the data of each path, or an error to throw. */
function store(nodes: Map<string, Buffer | Error>) {
  return async (path: string): Promise<Buffer | null> => {
    const n = nodes.get(path);
    if (n instanceof Error) throw n;
    return n ?? null;
  };
}

describe('HistoryPoller', () => {
  it('keeps every missed/skipped entry ZooKeeper holds once, across polls, and nothing else', async () => {
    const nodes = new Map<string, Buffer | Error>([[paths.history('alpha', 0), encodeHistory([success(6), missed(5, 3), success(1)])]]);
    const poller = new HistoryPoller(store(nodes), paths, jobs);
    expect(await poller.poll(() => 1)).toBe(true);
    // The entry is still there, a newer one came, and item 1 got one from another worker.
    nodes.set(paths.history('alpha', 0), encodeHistory([missed(8, 1), success(6), missed(5, 3)]));
    nodes.set(paths.history('alpha', 1), encodeHistory([missed(5, 3, 'w2')]));
    expect(await poller.poll(() => 2)).toBe(true);
    expect(poller.notes).toEqual([
      { job: 'alpha', item: 0, outcome: 'missed', fireTime: iso(5), at: iso(5.5), error: '3 fire(s) missed', worker: 'w1', seenAt: 1 },
      { job: 'alpha', item: 0, outcome: 'missed', fireTime: iso(8), at: iso(8.5), error: '1 fire(s) missed', worker: 'w1', seenAt: 2 },
      { job: 'alpha', item: 1, outcome: 'missed', fireTime: iso(5), at: iso(5.5), error: '3 fire(s) missed', worker: 'w2', seenAt: 2 },
    ]);
    expect(poller.stats).toEqual({ complete: 2, incomplete: 0, malformed: 0 });
  });

  it('keeps an entry it read once after it left the bounded history, and counts polls that could not read everything', async () => {
    const nodes = new Map<string, Buffer | Error>([[paths.history('alpha', 0), encodeHistory([missed(5, 2)])], [paths.history('alpha', 1), new Error('connection loss')]]);
    const poller = new HistoryPoller(store(nodes), paths, jobs);
    expect(await poller.poll()).toBe(false);
    nodes.set(paths.history('alpha', 0), encodeHistory([success(7)]));
    nodes.set(paths.history('alpha', 1), Buffer.from('{"v":2,"r":"not a list"}'));
    expect(await poller.poll()).toBe(true);
    expect(poller.notes.map((n) => [n.item, n.fireTime])).toEqual([[0, iso(5)]]);
    expect(poller.stats).toEqual({ complete: 1, incomplete: 1, malformed: 1 });
  });
});
