import { describe, expect, it } from 'vitest';
import { selectRuns, zooKeeperRunRows, zooKeeperRuns } from '../../src/api/zookeeper-runs.js';
import type { FleetSnapshot, ItemSnapshot, JobSnapshot } from '../../src/api/fleet-snapshot.js';
import type { RecentOutcome } from '../../src/model/progress-record.js';
import { testJob } from '../support/test-job.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s)).toISOString();
const run = (s: number, outcome: RecentOutcome['outcome'] = 'success'): RecentOutcome => ({ fireTime: at(s), outcome, attempt: outcome === 'missed' ? 0 : 1, worker: 'w1', at: at(s), ...(outcome === 'missed' ? { error: '3 fires missed' } : {}) });
const item = (n: number, recent: RecentOutcome[]): ItemSnapshot => ({ item: n, exists: true, progress: { recent }, run: null });
const job = (name: string, shards: number, items: ItemSnapshot[], defined = true): JobSnapshot => ({
  name, definition: defined ? testJob(name, { shards }) : undefined, version: 0, assignment: undefined, control: { disabled: false, disabledItems: [], pins: {} } as unknown as JobSnapshot['control'], items,
});
const snapshot = (jobs: JobSnapshot[]): FleetSnapshot => ({ namespace: 'ns', readAt: Date.UTC(2026, 11, 3, 12, 1), members: [], drains: [], jobs } as unknown as FleetSnapshot);

describe('ZooKeeper run history as `zkctl runs` rows', () => {
  const fleet = snapshot([
    job('a', 2, [item(0, [run(9), run(5, 'failed')]), item(1, [run(8), run(2, 'missed')]), item(2, [run(30)])]), // item 2 is beyond shards: not shown
    job('b', 1, [item(0, [run(7, 'timeout'), run(1)])]),
    job('broken', 1, [item(0, [run(20)])], false), // a definition that does not decode: no runs shown
  ]);

  it('every run of the defined items, newest first, fire ids and missed counts included', () => {
    const rows = zooKeeperRunRows(fleet);
    expect(rows.map((r) => `${r.job}/${r.item}@${r.fireTime.slice(17, 19)}:${r.outcome}`)).toEqual(['a/0@09:success', 'a/1@08:success', 'b/0@07:timeout', 'a/0@05:failed', 'a/1@02:missed', 'b/0@01:success']);
    expect(rows.find((r) => r.outcome === 'missed')!.fires).toBe(3);
    expect(rows[0]!.fireId).toMatch(/^a/);
  });

  it('selects like the SQL query: job, item, outcome, since, until, limit', () => {
    const rows = zooKeeperRunRows(fleet);
    const pick = (f: Parameters<typeof selectRuns>[1]) => selectRuns(rows, f).map((r) => `${r.job}/${r.item}@${r.fireTime.slice(17, 19)}`);
    expect(pick({ job: 'a' })).toEqual(['a/0@09', 'a/1@08', 'a/0@05', 'a/1@02']);
    expect(pick({ job: 'a', item: 1 })).toEqual(['a/1@08', 'a/1@02']);
    expect(pick({ outcome: 'failed' })).toEqual(['a/0@05']);
    expect(pick({ since: new Date(at(5)) })).toEqual(['a/0@09', 'a/1@08', 'b/0@07', 'a/0@05']);
    expect(pick({ until: new Date(at(5)) })).toEqual(['a/1@02', 'b/0@01']);
    expect(pick({ limit: 2 })).toEqual(['a/0@09', 'a/1@08']);
    expect(pick({ since: new Date(at(2)), until: new Date(at(8)), limit: 2 })).toEqual(['b/0@07', 'a/0@05']);
  });

  it('zooKeeperRuns reads only the job and item asked for', () => {
    expect(zooKeeperRuns(fleet, { job: 'b' }).map((r) => r.outcome)).toEqual(['timeout', 'success']);
    expect(zooKeeperRuns(fleet, { job: 'a', item: 0, limit: 1 }).map((r) => r.fireTime)).toEqual([at(9)]);
  });
});
