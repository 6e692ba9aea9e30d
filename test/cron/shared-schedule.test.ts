import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/cron/cron-schedule.js';
import { sharedSchedule } from '../../src/cron/shared-schedule.js';

describe('sharedSchedule', () => {
  it('gives one schedule per cron and time zone', () => {
    const a = sharedSchedule('0 */5 * * * *', 'Europe/Berlin');
    expect(sharedSchedule('0 */5 * * * *', 'Europe/Berlin')).toBe(a);
    expect(sharedSchedule('0 */5 * * * *', 'UTC')).not.toBe(a);
    expect(sharedSchedule('0 */10 * * * *', 'Europe/Berlin')).not.toBe(a);
    expect(sharedSchedule('0 0 * * * *')).toBe(sharedSchedule('0 0 * * * *', 'UTC'));
  });

  it('answers as a schedule of its own would when users ask it about their own instants in turn (its cursor is shared)', () => {
    const cron = '30 2 * * *';
    const zone = 'America/New_York'; // 2026-03-08: 02:30 falls in the skipped hour; 2026-11-01: 01:xx repeats
    const shared = sharedSchedule(cron, zone);
    const walks = [Date.UTC(2026, 2, 6), Date.UTC(2026, 2, 7, 12), Date.UTC(2026, 9, 30), Date.UTC(2026, 10, 1, 5, 59)];
    const own = walks.map(() => CronSchedule.parse(cron, zone));
    const at = walks.map((t) => new Date(t));
    for (let step = 0; step < 6; step++) {
      walks.forEach((_, k) => {
        const expected = own[k]!.next(at[k]!);
        expect(shared.next(at[k]!)).toEqual(expected);
        expect(shared.previous(expected)).toEqual(own[k]!.previous(expected));
        at[k] = expected;
      });
    }
  });

  it('rejects what CronSchedule.parse rejects', () => {
    expect(() => sharedSchedule('not a cron')).toThrow(/invalid cron expression/);
    expect(() => sharedSchedule('* * * * *', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});
