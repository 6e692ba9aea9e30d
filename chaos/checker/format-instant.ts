/** An instant (ms since the epoch) as an ISO string, for violation details; non-finite as is. */
export function formatInstant(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
