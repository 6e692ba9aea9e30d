import { describe, expect, it } from 'vitest';
import { planAssignment } from '../../src/leader/plan-assignment.js';
import { RUN_PROTOCOL, type Member, type MemberInfo } from '../../src/membership/member-info.js';

const member = (seq: number, info: Partial<MemberInfo> = {}): Member => ({
  name: `m-00-${String(seq).padStart(10, '0')}`,
  sequence: seq,
  info: { id: `w${seq}`, host: 'h', pid: seq, jobs: ['a', 'b'], labels: {}, capacity: 1, state: 'active', startedAt: '2026-12-05T00:00:00.000Z', version: 'test', protocol: RUN_PROTOCOL, ...info },
});

const def = (name: string, shards = 4) => ({ name, shards, strategy: 'average' as const });
const noControl = { disabled: false, disabledItems: [], pins: {} };

describe('planAssignment', () => {
  it('gives items only to active members with a good clock, not drained, that declare the job', () => {
    const members = [
      member(1),
      member(2, { jobs: ['b'] }), // does not declare a
      member(3, { state: 'draining' }),
      member(4, { clock: { skewMs: 9000, maxSkewMs: 1000, ok: false, checkedAt: '2026-12-05T00:00:00.000Z' } }),
      member(5), // drained by the operator below
      member(6, { jobs: ['x', 'y', 'a'] }),
    ];
    const plan = planAssignment({ def: def('a'), members, drained: new Set(['w5']), control: noControl });
    expect(new Set(plan.owners)).toEqual(new Set([members[0]!.name, members[5]!.name]));
    expect(plan.owners).toHaveLength(4);
    // The same records, another job: member 2 declares b and is eligible for it.
    const b = planAssignment({ def: def('b'), members, drained: new Set(['w5']), control: noControl });
    expect(new Set(b.owners)).toEqual(new Set([members[0]!.name, members[1]!.name]));
  });

  it('gives no items to a member of another run protocol, or of none announced', () => {
    const members = [member(1, { protocol: undefined }), member(2, { protocol: RUN_PROTOCOL + 1 }), member(3)];
    const plan = planAssignment({ def: def('a'), members, drained: new Set(), control: noControl });
    expect(new Set(plan.owners)).toEqual(new Set([members[2]!.name]));
    expect(planAssignment({ def: def('a'), members: members.slice(0, 2), drained: new Set(), control: noControl }).owners).toEqual([null, null, null, null]);
  });

  it('leaves every item unowned when no member declares the job', () => {
    const plan = planAssignment({ def: def('zzz', 3), members: [member(1), member(2)], drained: new Set(), control: noControl });
    expect(plan.owners).toEqual([null, null, null]);
  });

  it('honours a pin to an eligible worker and drops one to a worker that is not', () => {
    const members = [member(1), member(2), member(3, { jobs: ['b'] })];
    const plan = planAssignment({ def: def('a'), members, drained: new Set(), control: { ...noControl, pins: { '0': 'w2', '1': 'w3', '9': 'w1' } } });
    expect(plan.owners[0]).toBe(members[1]!.name);
    expect(plan.pins).toEqual({ '0': 'w2' });
  });

  it('lists disabled items once, ascending, within the job; a disabled job disables them all', () => {
    const members = [member(1)];
    expect(planAssignment({ def: def('a'), members, drained: new Set(), control: { ...noControl, disabledItems: [3, 1, 3, 7, -1] } }).disabled).toEqual([1, 3]);
    expect(planAssignment({ def: def('a'), members, drained: new Set(), control: { ...noControl, disabled: true } }).disabled).toEqual([0, 1, 2, 3]);
  });
});
