import { describe, expect, it } from 'vitest';
import { checkNoStartAfterLoss } from '../../../chaos/checker/check-no-start-after-loss.js';
import { fire, run, session } from './records.js';

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
    expect(result.violations[0]!.detail).toContain('1000 ms after it knew its lease was lost');
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
});
