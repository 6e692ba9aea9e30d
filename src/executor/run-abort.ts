/**
 * How a run (or one attempt of it) is aborted: what an `AbortController` does, except that its
 * `AbortSignal` is made only when something asks for it — a handler reading `ctx.signal`, a
 * script, a sandbox, a retry's backoff. Making an `AbortSignal` costs Node about 4 µs of CPU (it is
 * an `EventTarget`, and most of that is collecting it again); a worker firing 2,000 items at one
 * instant made 2,000 of them for handlers that almost never read them (2026-12-04: making them on
 * demand, and asking the lease once per instant, took the executor's CPU per run from about 30 to
 * 21 µs).
 *
 * Listeners added with `onAbort` are plain callbacks, called once, in order, after the signal (if
 * made) has fired its own.
 */
export class RunAbort {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;
  private listeners: Array<(reason: unknown) => void> | undefined;

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** Why it was aborted; undefined while it is not. */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** An `AbortSignal` that aborts with this (already aborted, with its reason, if this is). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Aborts with `reason` (an `AbortError` when none is given, as `AbortController` does); later calls do nothing. */
  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason: reason ?? new DOMException('This operation was aborted', 'AbortError') };
    this.controller?.abort(this.abortedWith.reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const fn of listeners) fn(this.abortedWith.reason);
  }

  /** Calls `fn` once when this aborts (at once if it has). Returns what removes it. */
  onAbort(fn: (reason: unknown) => void): () => void {
    if (this.abortedWith) {
      fn(this.abortedWith.reason);
      return () => {};
    }
    (this.listeners ??= []).push(fn);
    return () => {
      const at = this.listeners?.indexOf(fn) ?? -1;
      if (at >= 0) this.listeners!.splice(at, 1);
    };
  }
}
