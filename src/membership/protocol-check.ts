import { ProtocolMismatchError } from '../errors/protocol-mismatch-error.js';
import { RUN_PROTOCOL, type Member } from './member-info.js';
import type { MemberNodes } from './read-members.js';

/** Whether a member speaks this code's run protocol (only such members are given items). */
export function speaksOurProtocol(member: Pick<Member, 'info'>): boolean {
  return member.info.protocol === RUN_PROTOCOL;
}

/**
 * Refuses to join a fleet with live members of another run protocol: the records each writes are
 * not what the other reads (a takeover could begin an item another member still runs). Before
 * joining, any such member is in the way; after, one older than ourselves (a lower sequence: it
 * would lead before us, and a leader of another protocol must never hand us items). Members of
 * another protocol that joined after us get no items from a leader of ours (`planAssignment`).
 *
 * A live member node whose record cannot be read says no protocol we can trust: it is in the way
 * as one of another protocol (a later protocol's record this code does not know how to read,
 * or a corrupted one), named with what is wrong with it. One whose name carries no sequence is in
 * the way after joining too: nothing says it is younger than us.
 * @param below only members with a lower sequence (after joining: our own)
 */
export function checkFleetProtocol(fleet: MemberNodes, below = Number.POSITIVE_INFINITY): void {
  const older = (sequence: number): boolean => !(sequence >= below);
  const others = fleet.members.filter((m) => older(m.sequence) && !speaksOurProtocol(m));
  const unreadable = fleet.unreadable.filter((u) => older(u.sequence));
  if (others.length === 0 && unreadable.length === 0) return;
  const listed = [
    ...others.map((m) => ({ name: m.name, id: m.info.id, protocol: m.info.protocol ?? null })),
    ...unreadable.map((u) => ({ name: u.name, id: '?', protocol: null, unreadable: u.error.message })),
  ];
  const named = listed
    .slice(0, 5)
    .map((m) =>
      'unreadable' in m
        ? `${m.name} (its record cannot be read: ${m.unreadable})`
        : `${m.id} (${m.name}, ${m.protocol === null ? 'no protocol announced: from before announcements' : `protocol ${m.protocol}`})`,
    )
    .join(', ');
  throw new ProtocolMismatchError(
    `the fleet has ${listed.length} live member${listed.length === 1 ? '' : 's'} of another run protocol than this worker's (${RUN_PROTOCOL}): ${named}${listed.length > 5 ? ', …' : ''}; workers of different run protocols must not share a fleet: this worker joins once they have left (README.md, "Upgrading a fleet")`,
    listed,
  );
}
