import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/api/fleet-watch.js';
import type { FleetSnapshot, JobSnapshot } from '../../src/api/fleet-snapshot.js';
import type { Member } from '../../src/membership/member-info.js';
import { formatItemList } from '../../src/api/item-list.js';
import { def } from './fleet-fixture.js';

const member = (id: string, seq: number, state: 'active' | 'draining' = 'active'): Member => ({
  name: `m-0000000${seq}-${String(seq).padStart(10, '0')}`, sequence: seq,
  info: { id, host: 'h', pid: seq, jobs: ['j'], labels: {}, capacity: 1, state, startedAt: '', version: '' },
});
const job = (generation: number, owners: (string | null)[], extra: Partial<JobSnapshot> = {}): JobSnapshot => ({
  name: 'j', definition: def('j', { shards: owners.length }), version: 0,
  assignment: { job: 'j', shards: owners.length, generation, leader: '', owners, workers: Object.fromEntries(owners.filter((o): o is string => o !== null).map((o) => [o, o.startsWith('m-00000001') ? 'w1' : 'w2'])), updatedAt: '' },
  control: { disabled: false, disabledItems: [], pins: {} }, items: [], ...extra,
});
const snap = (t: number, members: Member[], jobs: JobSnapshot[], drains: string[] = []): FleetSnapshot => ({ namespace: 'n', readAt: t, members, drains, jobs });

describe('diffSnapshots (zkctl watch)', () => {
  it('describes the state at start, then each change once', () => {
    const w1 = member('w1', 1);
    const w2 = member('w2', 2);
    const first = snap(0, [w1], [job(1, [w1.name, w1.name])]);
    const start = diffSnapshots(undefined, first);
    expect(start.every((e) => e.initial)).toBe(true);
    expect(start.map((e) => e.kind)).toEqual(['worker', 'leader', 'job', 'assignment']);
    expect(start[3]!.message).toBe('assignment j generation 1: w1: 0-1');
    expect(start[0]!.time).toBe('1970-01-01T00:00:00.000Z');

    expect(diffSnapshots(first, snap(1, [w1], [job(1, [w1.name, w1.name])]))).toEqual([]);

    const joined = snap(2, [w1, w2], [job(2, [w1.name, w2.name])]);
    expect(diffSnapshots(first, joined).map((e) => e.message)).toEqual([
      expect.stringMatching(/^worker w2 joined/),
      'assignment j generation 2: w1: 0; w2: 1',
    ]);
    const drained = snap(3, [w1, w2], [job(2, [w1.name, w2.name], { control: { disabled: true, disabledItems: [], pins: {} }, version: 1, definition: def('j', { shards: 2, cron: '0 * * * * *' }) })], ['w2']);
    expect(diffSnapshots(joined, drained).map((e) => e.message)).toEqual(['worker w2 draining (drain requested)', 'job j updated: cron', 'job j disabled']);
    const leaderGone = snap(4, [w2], [], ['w2']);
    expect(diffSnapshots(drained, leaderGone).map((e) => [e.kind, e.message])).toEqual([
      ['worker-left', `worker w1 left (${w1.name})`],
      ['leader', `leader w2 (${w2.name}) (was w1)`],
      ['job-removed', 'job j removed'],
    ]);
  });

  it('reports finished runs only when asked', () => {
    const w1 = member('w1', 1);
    const recent = (at: string) => ({ lastScheduled: at, recent: [{ fireTime: at, outcome: 'success' as const, attempt: 1, worker: 'w1', durationMs: 12, at }] });
    const a = snap(0, [w1], [job(1, [w1.name], { items: [{ item: 0, exists: true, progress: recent('2026-01-01T00:00:00.000Z'), run: null }] })]);
    const b = snap(1, [w1], [job(1, [w1.name], { items: [{ item: 0, exists: true, progress: recent('2026-01-01T00:00:01.000Z'), run: null }] })]);
    expect(diffSnapshots(a, b)).toEqual([]);
    expect(diffSnapshots(a, b, { runs: true }).map((e) => e.message)).toEqual(['run j#0 fire 2026-01-01T00:00:01.000Z success on w1 (12 ms)']);
  });

  it('formatItemList compresses ranges', () => {
    expect(formatItemList([5, 0, 1, 2, 3, 7, 8, 8])).toBe('0-3,5,7-8');
    expect(formatItemList([])).toBe('');
  });
});
