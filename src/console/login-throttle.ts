/** Failures allowed per user name within the window before its logins are refused for a while. */
export const LOGIN_FAILURES_ALLOWED = 5;
/** Failures allowed per client address (many users may share one, behind a proxy). */
export const LOGIN_FAILURES_ALLOWED_PER_ADDRESS = 50;
export const LOGIN_WINDOW_MS = 60_000;
export const LOGIN_LOCKOUT_MS = 60_000;

interface Entry {
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts failed logins per key (a user name, or a client address) and locks a key out for
 * {@link LOGIN_LOCKOUT_MS} after `allowed` failures in {@link LOGIN_WINDOW_MS}. In memory; bounded (old keys are swept).
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly allowed = LOGIN_FAILURES_ALLOWED, private readonly now: () => number = Date.now, private readonly maxKeys = 10_000) {}

  /** Milliseconds until `keys` may try again, or 0. */
  retryAfterMs(keys: readonly string[]): number {
    const t = this.now();
    return Math.max(0, ...keys.map((k) => (this.entries.get(k)?.lockedUntil ?? 0) - t));
  }

  fail(keys: readonly string[]): void {
    const t = this.now();
    if (this.entries.size > this.maxKeys) this.sweep(t);
    for (const k of keys) {
      const e = this.entries.get(k) ?? { failures: [], lockedUntil: 0 };
      e.failures = [...e.failures.filter((f) => t - f < LOGIN_WINDOW_MS), t];
      if (e.failures.length >= this.allowed) {
        e.lockedUntil = t + LOGIN_LOCKOUT_MS;
        e.failures = [];
      }
      this.entries.set(k, e);
    }
  }

  succeed(keys: readonly string[]): void {
    for (const k of keys) this.entries.delete(k);
  }

  private sweep(t: number): void {
    for (const [k, e] of this.entries) if (e.lockedUntil < t && e.failures.every((f) => t - f >= LOGIN_WINDOW_MS)) this.entries.delete(k);
  }
}
