import { describe, expect, it } from 'vitest';
import { checkNoStartAfterLoss } from '../../../chaos/checker/check-no-start-after-loss.js';
import { fault, fire, run, session } from './records.js';

/** pid 7 joins, loses its lease at 1000, rejoins at 3000. */
const sessions = [session('joined', 7, 0), session('lost', 7, 1000), session('joined', 7, 3000)];
const startAt = (pid: number, at: number, s = 0) => run({ pid, token: String(at), fire: fire(s), start: at, end: at + 100 });

describe('checkNoStartAfterLoss()', () => {
  it('accepts starts before the loss and after the rejoin', () => {
    const result = checkNoStartAfterLoss([...startAt(7, 500), ...startAt(7, 3000, 1), ...startAt(7, 3500, 2)], sessions);
    expect(result.violations).toEqual([]);
    expect(result.counts).toEqual({ starts: 3, losses: 1, violations: 0 });
  });

  it('reports a start after the loss and before the rejoin', () => {
    const result = checkNoStartAfterLoss([...startAt(7, 500), ...startAt(7, 2000, 1)], sessions);
    expect(result.counts).toEqual({ starts: 2, losses: 1, violations: 1 });
    expect(result.violations).toEqual([expect.objectContaining({ check: 'start-after-loss', at: 2000, pids: [7], job: 'orders', item: 0 })]);
    expect(result.violations[0]!.detail).toContain('1000 ms after its lease was lost: it knew its lease was lost');
    expect(result.violations[0]!.detail).toContain('before it rejoined');
  });

  it('reports a start after a loss never followed by a rejoin', () => {
    const result = checkNoStartAfterLoss(startAt(7, 9000), [session('joined', 7, 0), session('lost', 7, 1000)]);
    expect(result.violations[0]!.detail).toContain('it never rejoined');
  });

  it('only looks at the process that lost its lease, and only at starts', () => {
    const ends = startAt(7, 800).filter((e) => e.event === 'end').map((e) => ({ ...e, at: 2000 }));
    const result = checkNoStartAfterLoss([...startAt(8, 2000), ...ends], sessions);
    expect(result.violations).toEqual([]);
  });

  it('reports a start covered by two losses once', () => {
    const twice = [session('lost', 7, 1000), session('lost', 7, 1500)];
    expect(checkNoStartAfterLoss(startAt(7, 2000), twice).counts).toEqual({ starts: 1, losses: 2, violations: 1 });
  });

  it('reports a start after waking from a freeze past the session timeout, before the rejoin, though the worker logged no loss', () => {
    const joinedOnly = [session('joined', 7, 0), session('joined', 7, 9000)];
    const freeze = fault('sigstop', 7, 1000, 8000);
    const starts = [...startAt(7, 500), ...startAt(7, 8005, 1), ...startAt(7, 9100, 2)];
    const result = checkNoStartAfterLoss(starts, joinedOnly, { faults: [freeze], sessionTimeoutMs: 4000 });
    expect(result.counts).toEqual({ starts: 3, losses: 1, violations: 1 });
    expect(result.violations).toEqual([expect.objectContaining({ at: 8005, pids: [7] })]);
    expect(result.violations[0]!.detail).toContain('frozen past its session timeout');
    expect(result.violations[0]!.detail).toContain('before it rejoined');
    // A freeze shorter than the session is no loss.
    expect(checkNoStartAfterLoss(starts, joinedOnly, { faults: [fault('sigstop', 7, 1000, 4000)], sessionTimeoutMs: 4000 }).violations).toEqual([]);
  });

  it('reports a start more than a session timeout into a partition of that worker, before it rejoined', () => {
    const joined = [session('joined', 7, 0), session('joined', 7, 9000)];
    const cut = fault('partition-worker-out', 7, 1000, 7000);
    // 4500: within the session timeout of the cut (its lease may still hold); 5500: past it.
    const result = checkNoStartAfterLoss([...startAt(7, 4500), ...startAt(7, 5500, 1), ...startAt(7, 9500, 2)], joined, { faults: [cut], sessionTimeoutMs: 4000 });
    expect(result.counts).toEqual({ starts: 3, losses: 1, violations: 1 });
    expect(result.violations[0]!.detail).toContain('cut off from ZooKeeper for longer than its session timeout (partition-worker-out');
  });
});
