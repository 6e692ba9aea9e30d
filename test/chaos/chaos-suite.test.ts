import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { runChaosSuite } from '../../chaos/chaos-suite.js';
import { PROCESS_FAULT_KINDS, type FaultKind } from '../../chaos/run-chaos.js';
import { netnsSupport } from '../../src/testing/netns-support.js';

const support = await netnsSupport();
// With network namespaces (root, as in CI), one partition too: a worker cut off from every
// ZooKeeper server, both ways, past its session timeout, while it keeps running.
const kinds: FaultKind[] = [...PROCESS_FAULT_KINDS.filter((k) => k !== 'zk-outage'), ...(support.ok ? ['partition-worker' as const] : []), 'zk-outage'];

// The short chaos run of `npm test`: every process fault kind once (SIGKILL, SIGSTOP past the
// session timeout, SIGTERM + restart, one ZooKeeper server restarted, all of ZooKeeper down for
// 20 s) and a worker partition, on a 3-server ensemble with five worker processes, then the four
// checks. `npm run chaos` runs longer, with every partition kind.
describe('chaos suite (short)', () => {
  it(`keeps every guarantee under one fault of each kind (${support.ok ? 'with a partition' : `no partition: ${support.reason}`})`, { timeout: 240_000 }, async () => {
    const result = await runChaosSuite({ durationMs: 75_000, schedule: 'each-once', kinds, partitions: support.ok, outageMs: 20_000, workers: 5 });
    try {
      expect(result.summary.faults.map((f) => f.fault)).toEqual(kinds);
      expect(result.summary.overlaps.counts.runs).toBeGreaterThan(100);
      expect(result.violations, result.report).toBe(0);
    } finally {
      if (result.violations === 0) rmSync(result.dir, { recursive: true, force: true });
    }
  });
});
