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

/**
 * Resolves true once the session is live (connected or reconnected), false if it ends or
 * `timeoutMs` passes first. `startTimer` starts a timer and returns its cancel.
 */
export function waitUntilLive(session: SessionStateSource, startTimer: (fn: () => void, ms: number) => () => void, timeoutMs: number): Promise<boolean> {
  if (isLive(session.state)) return Promise.resolve(true);
  if (isTerminal(session.state)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      cancel();
      session.off('state', onState);
      resolve(value);
    };
    const onState = (state: SessionState) => {
      if (isLive(state)) done(true);
      else if (isTerminal(state)) done(false);
    };
    const cancel = startTimer(() => done(false), timeoutMs);
    session.on('state', onState);
  });
}
