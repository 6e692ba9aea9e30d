import { inspect } from 'node:util';
import { ZkshardError } from '../errors/zkshard-error.js';

/** Falsy values `waitFor` keeps polling on. */
type Falsy = false | 0 | '' | null | undefined;

export interface WaitForOptions {
  /** Give up after this long. @default 10000 */
  timeoutMs?: number;
  /** Pause between two checks. @default 50 */
  intervalMs?: number;
  /** What is awaited, for the error message: "timed out after 10000 ms waiting for <message>". */
  message?: string | (() => string);
  /** Stops waiting at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/** Thrown by {@link waitFor} when the deadline passes; `cause` is the condition's last error, if any. */
export class WaitForTimeoutError extends ZkshardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WAIT_TIMEOUT', message, options);
  }
}

/**
 * Polls `condition` until it returns (or resolves to) a truthy value and resolves with that value.
 * A condition that throws or rejects counts as "not yet"; its last error is reported on timeout.
 * A condition that hangs cannot hold the deadline: every check is raced against it.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, Falsy>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  const { signal } = options;
  let last: { value: unknown } | undefined;
  let lastError: unknown;

  for (;;) {
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const value = await raceDeadline(Promise.resolve().then(condition), remaining, signal);
      if (value === TIMED_OUT) break;
      if (value) return value as Exclude<T, Falsy>;
      last = { value };
      lastError = undefined;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      lastError = err;
    }
    const pause = Math.min(intervalMs, deadline - Date.now());
    if (pause <= 0) break;
    await sleep(pause, signal);
  }

  const what = typeof options.message === 'function' ? options.message() : options.message;
  const detail =
    lastError !== undefined
      ? `; last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`
      : last !== undefined
        ? `; last result: ${inspect(last.value, { depth: 3, breakLength: Infinity })}`
        : '';
  throw new WaitForTimeoutError(
    `timed out after ${timeoutMs} ms waiting for ${what ?? 'condition'}${detail}`,
    lastError === undefined ? undefined : { cause: lastError },
  );
}

const TIMED_OUT = Symbol('timed out');

function raceDeadline<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => done(() => reject(signal?.reason));
    const timer = setTimeout(() => done(() => resolve(TIMED_OUT)), ms);
    const done = (settle: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => done(() => resolve(v)),
      (e: unknown) => done(() => reject(e)),
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
