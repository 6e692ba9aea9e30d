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
 * Resolves when `clock` reads `atMs`. A wait of more than `finalMs` is made in two parts: until
 * `finalMs` before `atMs`, then the rest, read from the clock again then and never more than
 * `finalMs` (a wall clock set back meanwhile does not lengthen the wait). A single timer armed long
 * before its time, in a busy turn, was seen to fire late: libuv reckons a timer's wait from the
 * event loop's time as last read, and the JavaScript run since lengthens it. The last part is
 * armed in a turn of its own, shortly before `atMs`, where little else runs.
 */
export function sleepUntil(clock: Clock, atMs: number, finalMs: number): Promise<void> {
  const wait = atMs - clock.now();
  if (wait <= finalMs) return sleep(clock, Math.max(0, wait));
  return sleep(clock, wait - finalMs).then(() => sleep(clock, Math.min(finalMs, Math.max(0, atMs - clock.now()))));
}

/**
 * Resolves once any of `signals` aborts (at once if one already has), leaving no listener behind
 * on the others: a loop that waits on a long-lived signal and a per-round one (the worker's stop
 * and each ZooKeeper session's end) would otherwise add a listener to the long-lived one per round
 * (chaos, 2026-12-07: MaxListenersExceededWarning after ten rejoins).
 */
export function untilAborted(...signals: AbortSignal[]): Promise<void> {
  if (signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}
