import { describe, expect, it } from 'vitest';
import { checkOverlaps, WAKE_GRACE_MS } from '../../../chaos/checker/check-overlaps.js';
import { fault, fire, run, write, type RunSpec } from './records.js';

/** A frozen worker (pid 100) and the worker that took its item over (pid 200). */
const old: RunSpec = { pid: 100, token: '10', start: 1000, end: 9200, ending: 'aborted', reason: 'LEASE_LOST' };
const taker: RunSpec = { pid: 200, token: '20', fire: fire(8), start: 8000, end: 8600 };
/** SIGSTOP of pid 100 from 1500 to 9000 (past the session timeout). */
const freeze = fault('sigstop', 100, 1500, 9000);

describe('checkOverlaps()', () => {
  it('finds nothing in runs one after another, each writing with its own token', () => {
    const a: RunSpec = { pid: 1, token: '9', start: 1000, end: 1500 };
    const b: RunSpec = { pid: 2, token: '10', fire: fire(1), start: 2000, end: 2500 };
    const c: RunSpec = { pid: 1, token: '11', fire: fire(2), start: 2500, end: 3000 }; // touches b: no overlap
    const other: RunSpec = { pid: 3, item: 1, token: '12', start: 1000, end: 3000 }; // another item
    const result = checkOverlaps(
      [a, b, c, other].flatMap(run),
      [write(a, 1010), write(a, 1490), write(b, 2010), write(c, 2600), write(other, 1200)],
      [],
    );
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ runs: 4, overlappingPairs: 0, excusedPairs: 0, writes: 5, staleWritesRefused: 0, violations: 0, violatingRuns: 0 });
    expect(result.counts.endings).toEqual({ end: 4, aborted: 0, failed: 0, killed: 0, terminated: 0, open: 0 });
  });

  it('reports two live workers running one item at once', () => {
    const a: RunSpec = { pid: 1, token: '10', start: 1000, end: 3000 };
    const b: RunSpec = { pid: 2, token: '11', fire: fire(1), start: 2000, end: 2500 };
    const result = checkOverlaps([...run(a), ...run(b)], [write(a, 1010), write(b, 2010)], []);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 0, violations: 1, violatingRuns: 2 });
    expect(result.violations).toEqual([expect.objectContaining({ check: 'overlap', job: 'orders', item: 0, pids: [1, 2], at: 2000 })]);
    expect(result.violations[0]!.detail).toContain('for 500 ms');
    expect(result.violations[0]!.detail).toContain('was not frozen');
  });

  it('reports an overlap of two runs of the same process', () => {
    const a: RunSpec = { pid: 1, token: '10', start: 1000, end: 3000 };
    const b: RunSpec = { pid: 1, token: '11', fire: fire(1), start: 2000, end: 2500 };
    expect(checkOverlaps([...run(a), ...run(b)], [], []).counts.violations).toBe(1);
  });

  it('excuses the run of a frozen worker whose late write the store refused', () => {
    const writes = [write(old, 1010), write(taker, 8010, true, '10'), write(old, 9100, false, '20')];
    const result = checkOverlaps([...run(old), ...run(taker)], writes, [freeze]);
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 1, staleWritesRefused: 1, violations: 0 });
  });

  it('reports the frozen worker\'s run when its late write got in (before the new owner wrote)', () => {
    // The new owner writes late; the store had only seen token 10 when the woken worker wrote:
    // accepted, and not a stale write.
    const slow: RunSpec = { ...taker, end: 9600 };
    const writes = [write(old, 1010), write(old, 9100, true, '10'), write(slow, 9300, true, '10')];
    const result = checkOverlaps([...run(old), ...run(slow)], writes, [freeze]);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 0, staleWritesAccepted: 0, violations: 1 });
    expect(result.violations).toEqual([expect.objectContaining({ check: 'overlap', pids: [100, 200] })]);
    expect(result.violations[0]!.detail).toContain('1 of its writes after the newer run started were accepted');
  });

  it('reports an accepted late write of the frozen worker as an overlap and a stale write', () => {
    const writes = [write(old, 1010), write(taker, 8010, true, '10'), write(old, 9100, true, '20')];
    const result = checkOverlaps([...run(old), ...run(taker)], writes, [freeze]);
    expect(result.violations.map((v) => v.check)).toEqual(['overlap', 'stale-write']);
    expect(result.counts).toMatchObject({ excusedPairs: 0, staleWritesAccepted: 1, violations: 2, violatingRuns: 2 });
  });

  it('excuses the woken worker\'s run for a moment after SIGCONT (its lease was lost while frozen)', () => {
    // Seen in a chaos run: the handler's own timer ended the run 12 ms after SIGCONT, before the
    // lease check aborted it; the new owner had started 2 ms after SIGCONT; the store refused the write.
    const woken: RunSpec = { ...old, end: 9012, ending: 'end', reason: undefined };
    const justAfter: RunSpec = { ...taker, start: 9002, end: 9600 };
    const writes = [write(old, 1010), write(justAfter, 9003, true, '10'), write(woken, 9011, false, '20')];
    const result = checkOverlaps([...run(woken), ...run(justAfter)], writes, [freeze]);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 1, violations: 0 });
  });

  it('does not excuse an overlap when the newer run started well after the old worker woke up', () => {
    const long: RunSpec = { ...old, end: 12_000 };
    const late: RunSpec = { ...taker, start: 9000 + WAKE_GRACE_MS + 500, end: 11_000 };
    const result = checkOverlaps([...run(long), ...run(late)], [write(old, 1010), write(late, 10_600, true, '10')], [freeze]);
    expect(result.counts).toMatchObject({ excusedPairs: 0, violations: 1 });
  });

  it('does not excuse a worker cut off from ZooKeeper that kept running, even when the store refused its writes', () => {
    // A partition, not a freeze: the worker runs on, so its lease must have stopped it in time.
    const cut = fault('partition-worker', 100, 1500, 9000);
    const writes = [write(old, 1010), write(taker, 8010, true, '10'), write(old, 9100, false, '20')];
    const result = checkOverlaps([...run(old), ...run(taker)], writes, [cut]);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 0, violations: 1 });
    expect(result.violations[0]!.detail).toContain('kept running while cut off from ZooKeeper (partition-worker');
  });

  it('does not excuse a woken worker whose run went on past the wake grace, even when the store refused its writes', () => {
    const lingering: RunSpec = { ...old, end: 9000 + WAKE_GRACE_MS + 500 };
    const writes = [write(old, 1010), write(taker, 8010, true, '10'), write(lingering, 10_400, false, '20')];
    const result = checkOverlaps([...run(lingering), ...run(taker)], writes, [freeze]);
    expect(result.counts).toMatchObject({ overlappingPairs: 1, excusedPairs: 0, violations: 1 });
    expect(result.violations[0]!.detail).toContain(`its run went on until ${WAKE_GRACE_MS + 500} ms after SIGCONT`);
  });

  it('does not excuse an overlap when the frozen run is the newer one (larger token)', () => {
    const frozenNewer: RunSpec = { ...old, token: '30' };
    const result = checkOverlaps([...run(frozenNewer), ...run(taker)], [write(frozenNewer, 1010)], [freeze]);
    expect(result.counts).toMatchObject({ excusedPairs: 0, violations: 1 });
  });

  it('ends a SIGKILLed run at the kill, so its successor does not overlap it', () => {
    const killed: RunSpec = { pid: 1, token: '10', start: 1000 };
    const next: RunSpec = { pid: 2, token: '11', start: 5000, end: 5500, attempt: 2 };
    const kill = fault('sigkill', 1, 1200, 1500);
    expect(checkOverlaps([...run(killed), ...run(next)], [], [kill]).counts).toMatchObject({ overlappingPairs: 0, violations: 0 });
    expect(checkOverlaps([...run(killed), ...run(next)], [], [kill]).counts.endings.killed).toBe(1);
    // Without the kill the run would still be going: an overlap.
    expect(checkOverlaps([...run(killed), ...run(next)], [], []).counts).toMatchObject({ overlappingPairs: 1, violations: 1 });
  });

  it('compares tokens as numbers when deciding which run is older', () => {
    // '9' < '10' as numbers (as strings it would be the other way round).
    const frozen: RunSpec = { ...old, token: '9' };
    const next: RunSpec = { ...taker, token: '10' };
    const writes = [write(frozen, 1010), write(next, 8010, true, '9'), write(frozen, 9100, false, '10')];
    expect(checkOverlaps([...run(frozen), ...run(next)], writes, [freeze]).counts).toMatchObject({ excusedPairs: 1, violations: 0 });
  });

  it('reports a stale write the store accepted', () => {
    const a: RunSpec = { pid: 1, token: '10', start: 1000, end: 1500 };
    const b: RunSpec = { pid: 2, token: '11', fire: fire(1), start: 2000, end: 2500 };
    const result = checkOverlaps([...run(a), ...run(b)], [write(b, 2100), write(a, 2200, true, '11')], []);
    expect(result.violations).toEqual([expect.objectContaining({ check: 'stale-write', at: 2200 })]);
    expect(result.counts).toMatchObject({ overlappingPairs: 0, staleWritesAccepted: 1, violations: 1, violatingRuns: 1 });
  });
});
