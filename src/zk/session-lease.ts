/** The xid of a request or reply on the wire, or `'connect'` for the handshake (which has none). */
export type Xid = number | 'connect';

/** Watch notifications: the server sends them on its own; they answer nothing. */
export const NOTIFICATION_XID = -1;
/** Pings: answered in order with the session's requests. */
export const PING_XID = -2;
/** Authentication packets: answered on receipt, without touching the session. */
export const AUTH_XID = -4;

/** The outcome of one liveness check. */
export type LeaseCheck =
  /**
   * `lateByMs`: the check came more than the margin after the previous one (the process did not
   * run for that long). Reported, but it ends nothing by itself: what was answered after the stall
   * renews only to its send time, from before the stall, so the numbers alone say whether the
   * server could have expired the session meanwhile.
   */
  | { held: true; silentForMs: number; lateByMs?: number }
  /** No answer to anything sent in the last `leaseMs`. */
  | { held: false; why: 'ran-out'; silentForMs: number; lateByMs?: number };

/**
 * The client side of a ZooKeeper session's lease, on a monotonic clock fed in by the caller.
 *
 * The server resets a session's expiry to the full session timeout whenever it receives a request
 * or ping of that session. The only proof the client has that this happened at some instant is an
 * answer: it shows the server received the request, which it cannot have done before the request
 * was sent. So the lease runs from the *send time* of the latest request or ping whose answer
 * arrived — never from the time bytes were read (they may have waited in the socket buffer while
 * the process was frozen), and never from a notification (it answers nothing).
 *
 * The server answers a session's requests in order, and the queue of send times is popped once per
 * answer; were the answers ever out of order, the k answers received would still renew the lease to
 * the k-th oldest send time, no later than the newest of them: never more than proven.
 *
 * Pure: no clock, no I/O; `ZkClient` feeds it what it writes to and reads from the socket.
 */
export class SessionLease {
  /** Send times of what was written on the current connection and not answered yet, oldest first. */
  private inFlight: number[] = [];
  private inFlightHead = 0;
  private renewedAtMs = Number.NEGATIVE_INFINITY;
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private lastCheckAtMs: number | undefined;

  /** Send time of the latest answered request or ping (−∞ before the first answer). */
  get renewedAt(): number {
    return this.renewedAtMs;
  }

  /** When the last request or ping that renews the lease was written (−∞ before the first). */
  get lastSentAt(): number {
    return this.lastSentAtMs;
  }

  /** Requests and pings written on this connection and not answered yet. */
  get unanswered(): number {
    return this.inFlight.length - this.inFlightHead;
  }

  /** A new connection: nothing written on the previous one will be answered any more. */
  connectionOpened(): void {
    this.inFlight = [];
    this.inFlightHead = 0;
  }

  /** `xid` was written to the socket at `atMs`. */
  sent(xid: Xid, atMs: number): void {
    if (xid === AUTH_XID) return;
    this.inFlight.push(atMs);
    this.lastSentAtMs = Math.max(this.lastSentAtMs, atMs);
  }

  /** A reply with `xid` arrived (is about to be processed). */
  received(xid: Xid): void {
    if (xid === NOTIFICATION_XID || xid === AUTH_XID) return;
    if (this.inFlightHead >= this.inFlight.length) return; // answers nothing we know of: proves nothing
    const sentAt = this.inFlight[this.inFlightHead++]!;
    if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight = this.inFlight.slice(this.inFlightHead);
      this.inFlightHead = 0;
    }
    this.renewedAtMs = Math.max(this.renewedAtMs, sentAt);
  }

  /** Milliseconds left of the lease at `nowMs` (0 once it ran out). */
  remainingMs(nowMs: number, leaseMs: number): number {
    return Math.max(0, this.renewedAtMs + leaseMs - nowMs);
  }

  /**
   * Checks the lease at `nowMs`: held while the latest answered send time is less than `leaseMs`
   * ago. A check that comes more than `marginMs` after the previous one is flagged (`lateByMs`).
   */
  check(nowMs: number, leaseMs: number, marginMs: number): LeaseCheck {
    const previous = this.lastCheckAtMs;
    this.lastCheckAtMs = nowMs;
    const silentForMs = nowMs - this.renewedAtMs;
    const late = previous !== undefined && nowMs - previous > marginMs ? { lateByMs: nowMs - previous } : {};
    if (silentForMs >= leaseMs) return { held: false, why: 'ran-out', silentForMs, ...late };
    return { held: true, silentForMs, ...late };
  }
}
