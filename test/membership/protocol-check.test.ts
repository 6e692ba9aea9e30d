import { describe, expect, it } from 'vitest';
import { checkFleetProtocol, speaksOurProtocol } from '../../src/membership/protocol-check.js';
import { ProtocolMismatchError } from '../../src/errors/protocol-mismatch-error.js';
import { RUN_PROTOCOL, type Member } from '../../src/membership/member-info.js';

const member = (seq: number, protocol: number | undefined): Member => ({
  name: `m-00-${String(seq).padStart(10, '0')}`,
  sequence: seq,
  info: { id: `w${seq}`, host: 'h', pid: seq, jobs: [], labels: {}, capacity: 1, state: 'active', startedAt: '', version: '', ...(protocol === undefined ? {} : { protocol }) },
});

describe('the fleet protocol check', () => {
  it('lets a worker join a fleet of its own protocol, or an empty one', () => {
    expect(() => checkFleetProtocol([])).not.toThrow();
    expect(() => checkFleetProtocol([member(1, RUN_PROTOCOL), member(2, RUN_PROTOCOL)])).not.toThrow();
    expect(speaksOurProtocol(member(1, RUN_PROTOCOL))).toBe(true);
  });

  it('refuses a fleet with a member of another protocol or of none, naming them', () => {
    const check = (): unknown => {
      try {
        checkFleetProtocol([member(1, RUN_PROTOCOL), member(2, undefined), member(3, RUN_PROTOCOL + 1)]);
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
    expect(() => checkFleetProtocol(members, 2)).not.toThrow();
    expect(() => checkFleetProtocol(members, 4)).toThrow(ProtocolMismatchError);
  });
});
