import { ProtocolMismatchError } from '../errors/protocol-mismatch-error.js';
import { RUN_PROTOCOL, type Member } from './member-info.js';

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
 * @param below only members with a lower sequence (after joining: our own)
 */
export function checkFleetProtocol(members: readonly Member[], below = Number.POSITIVE_INFINITY): void {
  const others = members.filter((m) => m.sequence < below && !speaksOurProtocol(m));
  if (others.length === 0) return;
  const listed = others.map((m) => ({ name: m.name, id: m.info.id, protocol: m.info.protocol ?? null }));
  const named = listed
    .slice(0, 5)
    .map((m) => `${m.id} (${m.name}, ${m.protocol === null ? 'no protocol announced: from before announcements' : `protocol ${m.protocol}`})`)
    .join(', ');
  throw new ProtocolMismatchError(
    `the fleet has ${others.length} live member${others.length === 1 ? '' : 's'} of another run protocol than this worker's (${RUN_PROTOCOL}): ${named}${others.length > 5 ? ', …' : ''}; workers of different run protocols must not share a fleet: this worker joins once they have left (README.md, "Upgrading a fleet")`,
    listed,
  );
}
