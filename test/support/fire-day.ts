/**
 * Midnight UTC two days from when the tests started: fire instants for tests of the run ledger,
 * after the item nodes they make (ZooKeeper's clock) — an item's fires are the instants after its
 * creation (a begin of an earlier one answers `duplicate`) — and whole seconds, minutes and hours
 * as `Date.UTC(2026, 0, 1)` was.
 */
export const FIRE_DAY_MS = ((): number => {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2);
})();
