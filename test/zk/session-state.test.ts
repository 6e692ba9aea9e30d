import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitUntilLive, type SessionState } from '../../src/zk/session-state.js';

class FakeSession extends EventEmitter<{ state: [SessionState] }> {
  constructor(public state: SessionState) {
    super();
  }
  set(state: SessionState): void {
    this.state = state;
    this.emit('state', state);
  }
}

/** Timers that fire only when told to. */
function manualTimers() {
  const pending = new Set<() => void>();
  return {
    start: (fn: () => void) => {
      pending.add(fn);
      return () => pending.delete(fn);
    },
    fireAll: () => [...pending].forEach((fn) => fn()),
    get count() {
      return pending.size;
    },
  };
}

describe('waitUntilLive', () => {
  it('answers at once for a live or ended session', async () => {
    const timers = manualTimers();
    expect(await waitUntilLive(new FakeSession('connected'), timers.start, 1000)).toBe(true);
    expect(await waitUntilLive(new FakeSession('expired'), timers.start, 1000)).toBe(false);
    expect(timers.count).toBe(0);
  });

  it('however many wait during a disconnection, the session carries one listener; all learn the outcome, and no timer is left', async () => {
    const session = new FakeSession('suspended');
    const timers = manualTimers();
    const waits = Array.from({ length: 50 }, () => waitUntilLive(session, timers.start, 1000));
    expect(session.listenerCount('state')).toBe(1);
    session.set('suspended'); // not an outcome
    session.set('reconnected');
    expect(await Promise.all(waits)).toEqual(Array(50).fill(true));
    expect(session.listenerCount('state')).toBe(0);
    expect(timers.count).toBe(0);

    session.set('suspended');
    const later = [waitUntilLive(session, timers.start, 1000), waitUntilLive(session, timers.start, 1000)];
    expect(session.listenerCount('state')).toBe(1);
    session.set('lost');
    expect(await Promise.all(later)).toEqual([false, false]);
    expect(session.listenerCount('state')).toBe(0);
  });

  it('a wait that times out answers false; the others still learn the outcome', async () => {
    const session = new FakeSession('suspended');
    const timers = manualTimers();
    const first = waitUntilLive(session, timers.start, 1000);
    timers.fireAll();
    expect(await first).toBe(false);
    const second = waitUntilLive(session, timers.start, 1000);
    expect(session.listenerCount('state')).toBe(1);
    session.set('reconnected');
    expect(await second).toBe(true);
    expect(session.listenerCount('state')).toBe(0);
  });
});
