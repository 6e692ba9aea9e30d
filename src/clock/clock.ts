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

/**
 * Resolves once `clock` reads `atMs` (its wall clock), at the latest after the wait it reads now.
 * A wait longer than `finalMs` is made in two: until `finalMs` before `atMs`, then the rest, read
 * again then (never longer than `finalMs`). Node arms a timer against the event loop's time as last
 * read, and the loop sleeps for what it then reckons is left: JavaScript that ran in that turn
 * before it went to sleep (another timer's callback, a reply's handling) makes it sleep that much
 * too long, and a wait made in one piece ends that much late. The last stretch is armed in a turn
 * of its own, just before `atMs`, where little else runs.
 */
export function sleepUntil(clock: Clock, atMs: number, finalMs: number): Promise<void> {
  const wait = atMs - clock.now();
  if (wait <= finalMs) return sleep(clock, Math.max(0, wait));
  return sleep(clock, wait - finalMs).then(() => sleep(clock, Math.min(finalMs, Math.max(0, atMs - clock.now()))));
}
