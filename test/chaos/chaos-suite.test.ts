import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { runChaosSuite } from '../../chaos/chaos-suite.js';

// The short chaos run of `npm test`: every fault kind once (SIGKILL, SIGSTOP past the session
// timeout, SIGTERM + restart, one ZooKeeper server restarted, all of ZooKeeper down for 20 s) on a
// 3-server ensemble with five worker processes, then the four checks. `npm run chaos` runs longer.
describe('chaos suite (short)', () => {
  it('keeps every guarantee under one fault of each kind', { timeout: 240_000 }, async () => {
    const result = await runChaosSuite({ durationMs: 60_000, schedule: 'each-once', outageMs: 20_000, workers: 5 });
    try {
      expect(result.summary.faults.map((f) => f.fault)).toEqual(['sigkill', 'sigstop', 'sigterm', 'zk-restart', 'zk-outage']);
      expect(result.summary.overlaps.counts.runs).toBeGreaterThan(100);
      expect(result.violations, result.report).toBe(0);
    } finally {
      if (result.violations === 0) rmSync(result.dir, { recursive: true, force: true });
    }
  });
});
