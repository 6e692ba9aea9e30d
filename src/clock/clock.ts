/** A timer started by a {@link Clock}; only ever handed back to the same clock. */
export interface TimerHandle {
  /** Lets the process exit while the timer is pending (no-op where it means nothing). */
  unref?(): unknown;
}

/**
 * Time and timers, as the protocol code sees them: the seam through which tests and the
 * deterministic simulation run the real scheduler, executor and ledger on simulated time.
 */
export interface Clock {
  /** Wall-clock time, ms since the epoch (what cron instants and fire times are compared with). */
  now(): number;
  /** Milliseconds on a monotonic clock (never steps when the wall clock is set): for durations. */
  monotonic(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  /** Runs `fn` on the next turn of the event loop, after the I/O callbacks of this one. */
  setImmediate(fn: () => void): TimerHandle;
}

/** The timers alone, for a component that never reads the time. */
export type Timers = Pick<Clock, 'setTimeout' | 'clearTimeout' | 'setImmediate'>;

/** The process's own clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (fn, periodMs) => setInterval(fn, periodMs),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
  setImmediate: (fn) => setImmediate(fn),
};

/**
 * Resolves after `delayMs` on `clock`; rejects with the signal's reason if it aborts first. With
 * `unref`, the wait keeps no process alive.
 */
export function sleep(clock: Clock, delayMs: number, options: { signal?: AbortSignal; unref?: boolean } = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    if (options.unref) timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
