import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AssignmentRecord } from '../../src/model/assignment-record.js';
import { ASSIGNMENT_GROUPS, assignmentGroupOf, decodeJobAssignment, encodeAssignmentGroup, readAssignmentGroup, readJobAssignment } from '../../src/model/assignment-group.js';

const PATH = '/zkshard-test/assignments/7';
const LEADER = 'm-lead-0000000001';
const AT = '2026-12-05T00:00:00.000Z';
/** Job names that fall in group 7, and one that does not. */
const inGroup = Array.from({ length: 5000 }, (_, i) => `job-${i}`).filter((j) => assignmentGroupOf(j) === 7).slice(0, 6);
const elsewhere = Array.from({ length: 100 }, (_, i) => `other-${i}`).find((j) => assignmentGroupOf(j) !== 7)!;
const members = ['m-a-0000000002', 'm-b-0000000003', 'm-c-0000000004'];
const workerOf = (m: string) => `w-${m.slice(2, 3)}`;

function record(job: string, owners: (string | null)[], extra: Partial<AssignmentRecord> = {}): AssignmentRecord {
  const named = [...new Set(owners.filter((o): o is string => o !== null))];
  return { job, shards: owners.length, generation: 4, leader: LEADER, owners, workers: Object.fromEntries(named.map((m) => [m, workerOf(m)])), updatedAt: AT, ...extra };
}
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const valid = () => JSON.parse(encodeAssignmentGroup(7, LEADER, AT, [record(inGroup[0]!, [members[0]!, null, members[1]!])]).toString()) as Record<string, unknown>;

describe('assignment groups', () => {
  it('spreads job names over every group', () => {
    const seen = new Set(Array.from({ length: 5000 }, (_, i) => assignmentGroupOf(`job-${i}`)));
    expect(seen.size).toBe(ASSIGNMENT_GROUPS);
    expect(inGroup).toHaveLength(6);
  });

  it('round-trips any jobs of its group: owners, disabled items, pins; the leader and time are the node write\'s', () => {
    const owner = fc.oneof(fc.constant(null), fc.constantFrom(...members));
    const entry = fc.record({
      owners: fc.array(owner, { minLength: 1, maxLength: 40 }),
      generation: fc.integer({ min: 0, max: 1e9 }),
      disabledMask: fc.array(fc.boolean(), { maxLength: 40 }),
      pinned: fc.boolean(),
    });
    fc.assert(fc.property(fc.array(entry, { minLength: 0, maxLength: inGroup.length }), (entries) => {
      const records = entries.map((e, k) => {
        const disabled = e.disabledMask.flatMap((on, i) => (on && i < e.owners.length ? [i] : []));
        return record(inGroup[k]!, e.owners, { generation: e.generation, ...(disabled.length > 0 ? { disabled } : {}), ...(e.pinned ? { pins: { 0: 'w-a' } } : {}) });
      });
      const read = readAssignmentGroup(encodeAssignmentGroup(7, LEADER, AT, records), PATH, 7);
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      expect(read.value).toMatchObject({ group: 7, leader: LEADER, updatedAt: AT });
      expect([...read.value!.jobs.values()]).toEqual(records);
    }));
  });

  it('stores a member\'s name once per node, not once per item', () => {
    const data = encodeAssignmentGroup(7, LEADER, AT, inGroup.map((j) => record(j, Array(100).fill(members[0]))));
    expect(data.toString().split(members[0]!).length - 1).toBe(1);
  });

  it('a job\'s assignment: absent node, absent job, present job', () => {
    const data = encodeAssignmentGroup(7, LEADER, AT, [record(inGroup[0]!, [members[0]!])]);
    expect(readJobAssignment(undefined, PATH, inGroup[0]!)).toEqual({ ok: true, value: undefined });
    expect(readJobAssignment(data, PATH, inGroup[1]!)).toEqual({ ok: true, value: undefined });
    expect(decodeJobAssignment(data, inGroup[0]!)?.owners).toEqual([members[0]]);
    const garbage = readJobAssignment(Buffer.from('{"group":'), PATH, inGroup[0]!);
    expect(garbage.ok).toBe(false);
    if (!garbage.ok) expect(garbage.error.message).toContain(`malformed data at ${PATH}: `);
  });

  it.each([
    ['another group number', (v: Record<string, unknown>) => ({ ...v, group: 8 }), /group is 8, but the node is group 7/],
    ['a job of another group', (v: Record<string, unknown>) => ({ ...v, jobs: { [elsewhere]: { shards: 1, generation: 1, owners: [0] } } }), new RegExp(`job ${elsewhere} belongs to group \\d+, not 7`)],
    ['an owner that is no member', (v: Record<string, unknown>) => ({ ...v, jobs: { [inGroup[0]!]: { shards: 1, generation: 1, owners: [9] } } }), /owners\[0\] must be an integer from 0 to 1/],
    ['owners longer than shards', (v: Record<string, unknown>) => ({ ...v, jobs: { [inGroup[0]!]: { shards: 1, generation: 1, owners: [0, 1] } } }), /owners must have one entry per item \(shards is 1; has 2\)/],
    ['a worker id missing', (v: Record<string, unknown>) => ({ ...v, workers: ['w-a'] }), /workers must have one entry per member \(2 members; has 1\)/],
    ['a 10 kB member name', (v: Record<string, unknown>) => ({ ...v, members: ['m'.repeat(10_000), 'm-b'] }), /members\[0\] must be at most 200 characters/],
    ['a disabled item beyond shards', (v: Record<string, unknown>) => ({ ...v, jobs: { [inGroup[0]!]: { shards: 2, generation: 1, owners: [0, 1], disabled: [5] } } }), /disabled\[0\] must be an integer from 0 to 1/],
    ['shards 10^9', (v: Record<string, unknown>) => ({ ...v, jobs: { [inGroup[0]!]: { shards: 1e9, generation: 1, owners: [] } } }), /shards must be an integer from 1 to 10000/],
  ])('%s is malformed, with the reason', (_what, change, reason) => {
    const read = readAssignmentGroup(json(change(valid())), PATH, 7);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.error.reason).toMatch(reason);
  });
});
