import { describe, expect, it } from 'vitest';
import { checkFleetProtocol, speaksOurProtocol } from '../../src/membership/protocol-check.js';
import { ProtocolMismatchError } from '../../src/errors/protocol-mismatch-error.js';
import { RUN_PROTOCOL, readMemberInfo, type Member } from '../../src/membership/member-info.js';
import type { MemberNodes, UnreadableMember } from '../../src/membership/read-members.js';

const member = (seq: number, protocol: number | undefined): Member => ({
  name: `m-00-${String(seq).padStart(10, '0')}`,
  sequence: seq,
  info: { id: `w${seq}`, host: 'h', pid: seq, jobs: [], labels: {}, capacity: 1, state: 'active', startedAt: '', version: '', ...(protocol === undefined ? {} : { protocol }) },
});

const fleet = (members: Member[], unreadable: UnreadableMember[] = []): MemberNodes => ({ members, unreadable });

/** A live member node whose record cannot be read, as `readMemberNodes` reports it. */
const unreadable = (name: string, data: string): UnreadableMember => {
  const read = readMemberInfo(Buffer.from(data), `/ns/workers/${name}`);
  if (read.ok) throw new Error('expected a record that cannot be read');
  return { name, sequence: /(\d{10})$/.test(name) ? Number(name.slice(-10)) : Number.NaN, error: read.error };
};

describe('the fleet protocol check', () => {
  it('lets a worker join a fleet of its own protocol, or an empty one', () => {
    expect(() => checkFleetProtocol(fleet([]))).not.toThrow();
    expect(() => checkFleetProtocol(fleet([member(1, RUN_PROTOCOL), member(2, RUN_PROTOCOL)]))).not.toThrow();
    expect(speaksOurProtocol(member(1, RUN_PROTOCOL))).toBe(true);
  });

  it('refuses a fleet with a member of another protocol or of none, naming them', () => {
    const check = (): unknown => {
      try {
        checkFleetProtocol(fleet([member(1, RUN_PROTOCOL), member(2, undefined), member(3, RUN_PROTOCOL + 1)]));
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const err = check();
    expect(err).toBeInstanceOf(ProtocolMismatchError);
    const e = err as ProtocolMismatchError;
    expect(e.code).toBe('PROTOCOL_MISMATCH');
    expect(e.members).toEqual([
      { name: 'm-00-0000000002', id: 'w2', protocol: null },
      { name: 'm-00-0000000003', id: 'w3', protocol: RUN_PROTOCOL + 1 },
    ]);
    expect(e.message).toContain('w2 (m-00-0000000002, no protocol announced');
    expect(e.message).toContain(`protocol ${RUN_PROTOCOL + 1}`);
  });

  it('after joining, minds only the members older than ourselves', () => {
    const members = [member(1, RUN_PROTOCOL), member(2, RUN_PROTOCOL), member(3, undefined)];
    expect(() => checkFleetProtocol(fleet(members), 2)).not.toThrow();
    expect(() => checkFleetProtocol(fleet(members), 4)).toThrow(ProtocolMismatchError);
  });

  // A member node this code cannot read (a later protocol's record, or a corrupted one) was left
  // out of the check, and the worker joined a fleet whose protocol it did not know.
  it('counts a live member node whose record cannot be read as one of another protocol, naming what is wrong', () => {
    const future = unreadable('m-07-0000000002', '{"id":"w2","jobs":"all","protocol":99}');
    const check = (nodes: MemberNodes, below?: number): unknown => {
      try {
        checkFleetProtocol(nodes, below);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const err = check(fleet([member(1, RUN_PROTOCOL)], [future])) as ProtocolMismatchError;
    expect(err).toBeInstanceOf(ProtocolMismatchError);
    expect(err.members).toEqual([{ name: 'm-07-0000000002', id: '?', protocol: null, unreadable: future.error.message }]);
    expect(err.message).toContain('m-07-0000000002 (its record cannot be read: ');
    expect(err.message).toContain('jobs');
    // After joining: one younger than us is not in the way; one older, or with no sequence, is.
    expect(check(fleet([member(1, RUN_PROTOCOL)], [future]), 2)).toBeUndefined();
    expect(check(fleet([member(1, RUN_PROTOCOL)], [future]), 3)).toBeInstanceOf(ProtocolMismatchError);
    expect(check(fleet([], [unreadable('stray', 'not json')]), 3)).toBeInstanceOf(ProtocolMismatchError);
  });
});
