/**
 * The session state model of a `ZkClient` (after Curator's ConnectionState):
 *
 * - `latent`: constructed, not started.
 * - `connecting`: `start()` is waiting for the first connection.
 * - `connected`: the session is established and the server answers.
 * - `suspended`: the connection dropped, or the server stopped answering (our own read timeout);
 *   the client is reconnecting. The session may still be alive: keep running work, start nothing.
 * - `reconnected`: back on the same session after `suspended`; ephemerals and watches are intact.
 * - `lost`: the lease is over: nothing sent in the last `leaseMs` (most of the session timeout)
 *   was answered (`SessionLease`). The server may expire
 *   the session at any moment, so every session-bound thing must stop. Terminal.
 * - `expired`: the server said the session is gone. Terminal.
 * - `closed`: `close()` was called. Terminal.
 */
export type SessionState =
  | 'latent'
  | 'connecting'
  | 'connected'
  | 'suspended'
  | 'reconnected'
  | 'lost'
  | 'expired'
  | 'closed';

/** States after which the client can never be used again. */
export function isTerminal(state: SessionState): boolean {
  return state === 'lost' || state === 'expired' || state === 'closed';
}

/** States in which requests are answered. */
export function isLive(state: SessionState): boolean {
  return state === 'connected' || state === 'reconnected';
}

/** What `waitUntilLive` needs of a session: its state and its `state` events. */
export interface SessionStateSource {
  readonly state: SessionState;
  on(event: 'state', listener: (state: SessionState) => void): unknown;
  off(event: 'state', listener: (state: SessionState) => void): unknown;
}

/** The waiters of each session that is not live yet: one `state` listener serves them all. */
const waitersOf = new WeakMap<SessionStateSource, Set<(state: SessionState) => void>>();

/**
 * Resolves true once the session is live (connected or reconnected), false if it ends or
 * `timeoutMs` passes first. `startTimer` starts a timer and returns its cancel. However many wait
 * at once (every request caught by a disconnection may), the session carries one listener.
 */
export function waitUntilLive(session: SessionStateSource, startTimer: (fn: () => void, ms: number) => () => void, timeoutMs: number): Promise<boolean> {
  if (isLive(session.state)) return Promise.resolve(true);
  if (isTerminal(session.state)) return Promise.resolve(false);
  let waiters = waitersOf.get(session);
  if (!waiters) {
    const all = new Set<(state: SessionState) => void>();
    const onState = (state: SessionState): void => {
      if (!isLive(state) && !isTerminal(state)) return;
      session.off('state', onState);
      waitersOf.delete(session);
      for (const waiter of all) waiter(state);
    };
    waiters = all;
    waitersOf.set(session, all);
    session.on('state', onState);
  }
  const set = waiters;
  return new Promise((resolve) => {
    const done = (value: boolean): void => {
      cancel();
      set.delete(waiter);
      resolve(value);
    };
    const waiter = (state: SessionState): void => done(isLive(state));
    const cancel = startTimer(() => done(false), timeoutMs);
    set.add(waiter);
  });
}
