/**
 * Told the server's time of a write that was just answered (its `mtime`), so that a clock check
 * needs no write of its own while the worker writes anyway (the run ledger's begin multis).
 * `worker/clock-check.ts` implements it.
 */
export interface ServerClockObserver {
  /** The local clock, as the observer reads it. */
  localNow(): number;
  observe(sentMs: number, receivedMs: number, serverMtimeMs: number): void;
}
