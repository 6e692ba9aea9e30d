/** A pending timer of {@link ZkTimers}; Node's timers can be unref'd so they keep no process alive. */
export interface ZkTimer {
  unref?(): unknown;
}

/**
 * The clock and timers a `ZkClient` runs its lease, watchdog and timeouts on. Injectable so that a
 * simulation can drive time; the default is the process's own.
 */
export interface ZkTimers {
  /** Milliseconds on a monotonic clock: never steps when the wall clock is set. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ZkTimer;
  clearTimeout(timer: ZkTimer): void;
  setInterval(fn: () => void, ms: number): ZkTimer;
  clearInterval(timer: ZkTimer): void;
}

/** `performance.now()` and Node's timers. */
export const systemTimers: ZkTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout),
};
