/**
 * The timers a component waits with, passed in so that it can run on simulated time (unit tests on
 * fake time, a deterministic simulation of the fleet). Handles are opaque to the caller.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` on the next turn of the event loop, after the I/O callbacks of this one. */
  setImmediate(fn: () => void): unknown;
}

/** Node's own timers. */
export const SYSTEM_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
};
