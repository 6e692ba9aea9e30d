import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RECENT_OUTCOMES, withOutcome, type RecentOutcome } from '../../src/model/progress-record.js';

const entry = (n: number): RecentOutcome => ({ fireTime: new Date(n * 1000).toISOString(), outcome: 'success', attempt: 1, worker: 'w', at: new Date(n * 1000).toISOString() });

describe('withOutcome', () => {
  it('puts the new outcome first and keeps the newest RECENT_OUTCOMES, leaving the old list as it was (property)', () => {
    fc.assert(
      fc.property(fc.option(fc.array(fc.nat(1000).map(entry), { maxLength: 15 }), { nil: undefined }), fc.nat(1000), (recent, n) => {
        const before = recent && [...recent];
        const o = entry(n);
        expect(withOutcome(recent, o)).toEqual([o, ...(recent ?? [])].slice(0, RECENT_OUTCOMES));
        expect(recent).toEqual(before);
      }),
    );
  });
});
