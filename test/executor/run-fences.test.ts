import { describe, expect, it } from 'vitest';
import { RunFences, type LedgerMember } from '../../src/executor/run-fences.js';

function fences(version: { v: number }, tookNoRun = true): RunFences {
  const member: LedgerMember = { name: 'm-1-0000000001', workerId: 'w1', fenceVersion: () => version.v, fenceMovesTookNoRun: () => tookNoRun };
  return new RunFences(member);
}

describe('RunFences.allAt', () => {
  it('is true with no run fenced, and while every run is fenced at the version asked', () => {
    const at = { v: 5 };
    const f = fences(at);
    expect(f.allAt(5)).toBe(true);
    f.set('a', 0, 5);
    f.set('b', 3, 5);
    expect(f.allAt(5)).toBe(true);
    expect(f.allAt(6)).toBe(false);
  });

  it('is false while one run is fenced elsewhere, and true again once it is set back, deleted or followed', () => {
    const at = { v: 6 };
    const f = fences(at);
    f.set('a', 0, 6);
    f.set('a', 1, 5);
    expect(f.allAt(6)).toBe(false);
    expect(f.of('a', 1)).toBe(5);
    f.set('a', 1, 6);
    expect(f.allAt(6)).toBe(true);
    f.set('a', 1, 4);
    f.delete('a', 1);
    expect(f.allAt(6)).toBe(true);
    f.set('a', 2, 4);
    expect(f.allAt(6)).toBe(false);
    expect(f.followIfNoRunTaken('a', 2, 6)).toBe(true);
    expect(f.allAt(6)).toBe(true);
  });

  it('counts an item once however often it is set, and forgets it once deleted', () => {
    const f = fences({ v: 7 });
    f.set('a', 0, 5);
    f.set('a', 0, 5);
    f.delete('a', 0);
    f.delete('a', 0); // again: nothing to forget
    expect(f.allAt(7)).toBe(true);
    f.set('a', 0, 5);
    expect(f.allAt(7)).toBe(false);
    expect(f.allAt(5)).toBe(true);
  });

  it('does not move a run whose fence moves may have taken it', () => {
    const f = fences({ v: 6 }, false);
    f.set('a', 0, 5);
    expect(f.followIfNoRunTaken('a', 0, 6)).toBe(false);
    expect(f.allAt(6)).toBe(false);
  });
});
