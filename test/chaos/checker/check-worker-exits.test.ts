import { describe, expect, it } from 'vitest';
import { checkWorkerExits } from '../../../chaos/checker/check-worker-exits.js';

describe('checkWorkerExits()', () => {
  const at = Date.UTC(2026, 11, 7, 20, 16, 50);

  it('passes the workers the harness ended', () => {
    const result = checkWorkerExits([
      { id: 'w1', pid: 10, at, code: null, signal: 'SIGKILL', asked: true },
      { id: 'w2', pid: 11, at, code: 0, signal: null, asked: true },
    ]);
    expect(result).toEqual({ violations: [], counts: { exits: 2, unasked: 0 } });
  });

  it('reports a worker that ended on its own, however it ended', () => {
    const result = checkWorkerExits([
      { id: 'w1', pid: 10, at, code: null, signal: 'SIGKILL', asked: true },
      { id: 'w2', pid: 11, at, code: null, signal: 'SIGSEGV', asked: false },
      { id: 'w3', pid: 12, at, code: 1, signal: null, asked: false },
    ]);
    expect(result.counts).toEqual({ exits: 3, unasked: 2 });
    expect(result.violations.map((v) => v.detail)).toEqual([
      'w2 (pid 11) ended on its own at 2026-12-07T20:16:50.000Z (exit code null, signal SIGSEGV): nothing asked it to',
      'w3 (pid 12) ended on its own at 2026-12-07T20:16:50.000Z (exit code 1, signal none): nothing asked it to',
    ]);
    expect(result.violations[0]).toMatchObject({ check: 'worker-exit', at, pids: [11] });
  });
});
