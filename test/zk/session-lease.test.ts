import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AUTH_XID, NOTIFICATION_XID, PING_XID, SessionLease } from '../../src/zk/session-lease.js';

const LEASE_MS = 4000;
const MARGIN_MS = 2000;

describe('SessionLease (fake time)', () => {
  it('runs from the send time of the last answered request, not from when its answer is read', () => {
    const lease = new SessionLease();
    lease.connectionOpened();
    lease.sent('connect', 0);
    lease.received('connect');
    expect(lease.check(100, LEASE_MS, MARGIN_MS)).toMatchObject({ held: true });
    lease.sent(7, 1000);
    // Frozen from 1,000 to 9,000 ms; the answer waited in the socket buffer and is read now.
    lease.received(7);
    expect(lease.renewedAt).toBe(1000);
    expect(lease.remainingMs(9000, LEASE_MS)).toBe(0);
    expect(lease.check(9000, LEASE_MS, 10_000)).toMatchObject({ held: false, why: 'ran-out', silentForMs: 8000 });
  });

  it('is held until exactly leaseMs after the send time', () => {
    const lease = new SessionLease();
    lease.sent(PING_XID, 500);
    lease.received(PING_XID);
    expect(lease.check(500 + LEASE_MS - 1, LEASE_MS, Infinity).held).toBe(true);
    expect(lease.remainingMs(500 + LEASE_MS - 1, LEASE_MS)).toBe(1);
    expect(lease.check(500 + LEASE_MS, LEASE_MS, Infinity).held).toBe(false);
  });

  it('is never renewed by a notification, nor by an authentication answer', () => {
    const lease = new SessionLease();
    lease.sent('connect', 0);
    lease.received('connect');
    lease.sent(AUTH_XID, 100);
    lease.sent(PING_XID, 3000);
    lease.received(NOTIFICATION_XID); // a watch fired: answers nothing
    lease.received(AUTH_XID);
    expect(lease.renewedAt).toBe(0);
    expect(lease.unanswered).toBe(1);
    lease.received(PING_XID); // the ping's answer
    expect(lease.renewedAt).toBe(3000);
  });

  it('is renewed by each answer to the send time of the oldest unanswered request', () => {
    const lease = new SessionLease();
    lease.sent(1, 100);
    lease.sent(PING_XID, 200);
    lease.sent(2, 300);
    lease.received(1);
    expect(lease.renewedAt).toBe(100);
    lease.received(PING_XID);
    expect(lease.renewedAt).toBe(200);
    lease.received(2);
    expect(lease.renewedAt).toBe(300);
    lease.received(3); // answers nothing known: proves nothing
    expect(lease.renewedAt).toBe(300);
  });

  it('forgets what was sent on a connection that closed', () => {
    const lease = new SessionLease();
    lease.sent(1, 100);
    lease.sent(2, 5000); // never answered: the connection dropped
    lease.received(1);
    lease.connectionOpened();
    lease.sent('connect', 6000);
    lease.received('connect');
    expect(lease.renewedAt).toBe(6000);
    expect(lease.unanswered).toBe(0);
  });

  it('flags a check that comes more than the margin after the previous one, and ends the lease only by its numbers', () => {
    const lease = new SessionLease();
    lease.sent(PING_XID, 0);
    lease.received(PING_XID);
    expect(lease.check(250, LEASE_MS, MARGIN_MS).held).toBe(true);
    lease.sent(PING_XID, 500);
    lease.received(PING_XID);
    // The watchdog was due at 500 but ran at 2,600: the answer to what was sent at 500 proves the
    // server heard from us then, so the session cannot expire before 500 + T: still held, flagged.
    expect(lease.check(2600, LEASE_MS, MARGIN_MS)).toEqual({ held: true, silentForMs: 2100, lateByMs: 2350 });
    // And a late check past the lease's end is lost by its numbers.
    expect(lease.check(5000, LEASE_MS, MARGIN_MS)).toMatchObject({ held: false, why: 'ran-out', lateByMs: 2400 });
  });

  it('never renews past the newest send time among the answered requests, whatever the order of answers', () => {
    // Each request: its send time (increasing) and whether and in which order it is answered.
    const scenario = fc
      .array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 })
      .chain((gaps) => fc.tuple(fc.constant(gaps), fc.shuffledSubarray(gaps.map((_, i) => i))));
    fc.assert(
      fc.property(scenario, ([gaps, answeredOrder]) => {
        const lease = new SessionLease();
        const sentAt: number[] = [];
        let t = 0;
        gaps.forEach((gap, i) => {
          t += gap;
          sentAt.push(t);
          lease.sent(i, t);
        });
        const answered: number[] = [];
        for (const i of answeredOrder) {
          lease.received(i);
          answered.push(sentAt[i]!);
          expect(lease.renewedAt).toBeLessThanOrEqual(Math.max(...answered));
        }
      }),
    );
  });
});
