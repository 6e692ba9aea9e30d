import { describe, expect, it } from 'vitest';
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { CronSchedule } from '../../src/cron/cron-schedule.js';
import { ZkshardError } from '../../src/errors/zkshard-error.js';

const at = (iso: string) => new Date(iso);
const isos = (ds: readonly Date[]) => ds.map((d) => d.toISOString());

/** `n` fire times chained with next(), starting after `from`. */
function chain(s: CronSchedule, from: string, n: number): string[] {
  const out: Date[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) out.push((t = s.next(t)));
  return isos(out);
}

function expectStrictlyIncreasing(times: readonly string[]): void {
  const ms = times.map((t) => Date.parse(t));
  for (let i = 1; i < ms.length; i++) expect(ms[i]).toBeGreaterThan(ms[i - 1]!);
  expect(new Set(ms).size).toBe(ms.length);
}

function expectError(f: () => unknown, code: string, text: string): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ZkshardError);
    expect((err as ZkshardError).code).toBe(code);
    expect((err as Error).message).toContain(text);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('CronSchedule.parse', () => {
  it('accepts 5 fields (seconds = 0) and 6 fields (seconds first)', () => {
    expect(CronSchedule.parse('*/15 * * * *').next(at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:15:00.000Z');
    expect(CronSchedule.parse('30 */15 * * * *').next(at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T00:00:30.000Z');
    expect(CronSchedule.parse('  0  0 * * mon-fri ').timeZone).toBe('UTC');
  });

  it.each([
    ['* * * *', 'expected 5 or 6 fields, got 4'],
    ['* * * * * * *', 'expected 5 or 6 fields, got 7'],
    ['', 'expected 5 or 6 fields, got 0'],
    ['@daily', 'expected 5 or 6 fields, got 1'],
    ['61 * * * *', '61'],
    ['x * * * *', 'x'],
    ['*/0 * * * *', 'every 0'],
    ['5-1 * * * *', '5-1'],
    ['0 0 30 2 *', 'day of month'],
    ['H * * * *', 'hashed values (H)'],
  ])('rejects %j with CRON_INVALID', (cron, text) => {
    expectError(() => CronSchedule.parse(cron), 'CRON_INVALID', text);
    expectError(() => CronSchedule.parse(cron), 'CRON_INVALID', `"${cron}"`);
  });

  it.each(['Mars/Olympus', '', '+05:00', 'Europe/Berlinn'])('rejects the time zone %j with TIMEZONE_INVALID', (zone) => {
    expectError(() => CronSchedule.parse('* * * * *', zone), 'TIMEZONE_INVALID', `"${zone}"`);
  });

  it('accepts day names (their letters are not hashes)', () => {
    expect(CronSchedule.parse('0 0 * * THU').next(at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-08T00:00:00.000Z');
  });
});

describe('CronSchedule.next', () => {
  it('is strictly after the given instant (6 fields, every 5 s, UTC)', () => {
    const s = CronSchedule.parse('*/5 * * * * *');
    expect(s.next(at('2026-05-01T12:00:00.000Z')).toISOString()).toBe('2026-05-01T12:00:05.000Z');
    expect(s.next(at('2026-05-01T12:00:03.500Z')).toISOString()).toBe('2026-05-01T12:00:05.000Z');
    expect(s.next(at('2026-05-01T12:00:04.999Z')).toISOString()).toBe('2026-05-01T12:00:05.000Z');
    expect(chain(s, '2026-05-01T23:59:50Z', 4)).toEqual([
      '2026-05-01T23:59:55.000Z', '2026-05-02T00:00:00.000Z', '2026-05-02T00:00:05.000Z', '2026-05-02T00:00:10.000Z',
    ]);
  });

  it('fires on Shanghai wall time (UTC+8, no DST)', () => {
    const s = CronSchedule.parse('0 9 * * *', 'Asia/Shanghai');
    expect(chain(s, '2026-03-07T12:00:00Z', 3)).toEqual([
      '2026-03-08T01:00:00.000Z', '2026-03-09T01:00:00.000Z', '2026-03-10T01:00:00.000Z',
    ]);
    expect(chain(CronSchedule.parse('*/5 * * * * *', 'Asia/Shanghai'), '2026-11-01T05:59:58Z', 2)).toEqual([
      '2026-11-01T06:00:00.000Z', '2026-11-01T06:00:05.000Z',
    ]);
  });

  it('continues a chain quickly and agrees with fresh instances', () => {
    const s = CronSchedule.parse('*/5 * * * * *', 'Asia/Shanghai');
    const times = chain(s, '2026-01-01T00:00:00Z', 2000);
    expect(times[1999]).toBe('2026-01-01T02:46:40.000Z');
    expectStrictlyIncreasing(times);
    expect(CronSchedule.parse('*/5 * * * * *', 'Asia/Shanghai').next(at(times[1000]!)).toISOString()).toBe(times[1001]);
  });
});

describe('CronSchedule across DST changes (2026)', () => {
  it('daily 02:30 in New York: the skipped 02:30 fires at 03:30 EDT; fall-back 02:30 fires once', () => {
    const s = CronSchedule.parse('30 2 * * *', 'America/New_York');
    const spring = chain(s, '2026-03-06T12:00:00Z', 4);
    expect(spring).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']);
    // 2026-03-08T07:30Z is 03:30 EDT: the instant 02:30 EST would have been.
    expect(chain(s, '2026-10-30T12:00:00Z', 3)).toEqual(['2026-10-31T06:30:00.000Z', '2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']);
    // Asked from inside the landing hour, before the shifted fire: still the shifted fire.
    expect(s.next(at('2026-03-08T07:10:00Z')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(isos([s.previous(at('2026-03-08T12:00:00Z'))!])).toEqual(['2026-03-08T07:30:00.000Z']);
  });

  it('daily 01:30 in New York fires in the first pass of the repeated hour only', () => {
    const s = CronSchedule.parse('30 1 * * *', 'America/New_York');
    expect(chain(s, '2026-10-30T12:00:00Z', 3)).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    // Asked from inside the second pass (01:10 EST): not 01:30 EST, the next day.
    expect(s.next(at('2026-11-01T06:10:00Z')).toISOString()).toBe('2026-11-02T06:30:00.000Z');
    expect(s.previous(at('2026-11-01T07:00:00Z'))!.toISOString()).toBe('2026-11-01T05:30:00.000Z');
    expect(isos(s.fireTimesBetween(at('2026-10-31T00:00:00Z'), at('2026-11-03T00:00:00Z'), 10))).toEqual([
      '2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('daily 02:30 in Berlin: the skipped 02:30 fires at 03:30 CEST; the repeated 02:30 fires once (CEST)', () => {
    const s = CronSchedule.parse('30 2 * * *', 'Europe/Berlin');
    expect(chain(s, '2026-03-27T12:00:00Z', 4)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
    expect(chain(s, '2026-10-23T12:00:00Z', 4)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z']);
    expect(isos(s.fireTimesBetween(at('2026-03-27T12:00:00Z'), at('2026-03-31T12:00:00Z'), 10))).toEqual(chain(s, '2026-03-27T12:00:00Z', 4));
    expect(isos(s.fireTimesBetween(at('2026-10-23T12:00:00Z'), at('2026-10-27T12:00:00Z'), 10))).toEqual(chain(s, '2026-10-23T12:00:00Z', 4));
  });

  it('every 15 minutes is elapsed time: both passes of the repeated hour, nothing in the skipped one', () => {
    const every15 = (from: string, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(from) + (i + 1) * 900_000).toISOString());
    for (const [zone, from] of [
      ['America/New_York', '2026-03-08T06:00:00Z'], // 01:00 EST → 03:00 EDT at 07:00Z
      ['America/New_York', '2026-11-01T04:30:00Z'], // 01:xx EDT (05:xxZ), then 01:xx EST (06:xxZ)
      ['Europe/Berlin', '2026-03-29T00:00:00Z'], // 02:00 CET → 03:00 CEST at 01:00Z
      ['Europe/Berlin', '2026-10-25T00:00:00Z'], // 02:xx CEST (00:xxZ), then 02:xx CET (01:xxZ)
    ] as const) {
      const s = CronSchedule.parse('*/15 * * * *', zone);
      const times = chain(s, from, 16);
      expect(times).toEqual(every15(from, 16));
      expect(isos(s.fireTimesBetween(at(from), at(times[15]!), 100))).toEqual(times);
    }
  });

  it('agrees with cron-parser\'s forward walk from any instant (seeded samples)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const cases = [
      ['30 2 * * *', 'America/New_York', '2026-03-05T00:00:00Z', '2026-03-11T00:00:00Z'],
      ['30 1 * * *', 'America/New_York', '2026-10-29T00:00:00Z', '2026-11-04T00:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-10-22T00:00:00Z', '2026-10-28T00:00:00Z'],
      ['*/15 1,2,3 * * *', 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-09T00:00:00Z'],
      ['*/15 1,2,3 * * *', 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-02T00:00:00Z'],
      ['0 */20 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z'],
      ['0 */20 2 * * *', 'Europe/Berlin', '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z'],
      ['0 0 * * *', 'America/Santiago', '2026-09-03T00:00:00Z', '2026-09-09T00:00:00Z'], // midnight skipped
    ] as const;
    for (const [cron, zone, a, b] of cases) {
      const lo = Date.parse(a);
      const walk = CronExpressionParser.parse(cron, { tz: zone, currentDate: new Date(lo - 3 * 86_400_000) });
      const seq: number[] = [];
      for (let t = 0; t <= Date.parse(b); ) seq.push((t = walk.next().getTime()));
      const s = CronSchedule.parse(cron, zone);
      const last = seq[seq.length - 2]!;
      for (let i = 0; i < 40; i++) {
        const x = lo + Math.floor(random() * (last - lo));
        const where = `${cron} ${zone} at ${new Date(x).toISOString()}`;
        expect(s.next(new Date(x)).getTime(), where).toBe(seq.find((t) => t > x));
        expect(s.previous(new Date(x))?.getTime(), where).toBe(seq.findLast((t) => t <= x));
      }
      const window = seq.filter((t) => t > lo && t <= last);
      expect(s.fireTimesBetween(new Date(lo), new Date(last), 1000).map((d) => d.getTime())).toEqual(window);
      expectStrictlyIncreasing(isos(window.map((t) => new Date(t))));
    }
  });
});

describe('CronSchedule.previous', () => {
  const s = CronSchedule.parse('0 */10 * * * *');

  it('includes the given instant and ignores milliseconds', () => {
    expect(s.previous(at('2026-01-01T10:10:00.000Z'))!.toISOString()).toBe('2026-01-01T10:10:00.000Z');
    expect(s.previous(at('2026-01-01T10:10:00.999Z'))!.toISOString()).toBe('2026-01-01T10:10:00.000Z');
    expect(s.previous(at('2026-01-01T10:09:59.999Z'))!.toISOString()).toBe('2026-01-01T10:00:00.000Z');
  });

  it('is null when there is no fire within 366 days', () => {
    const leapDay = CronSchedule.parse('0 0 29 2 *');
    expect(leapDay.previous(at('2028-03-01T00:00:00Z'))!.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(leapDay.previous(at('2026-06-01T00:00:00Z'))).toBeNull();
  });
});

describe('CronSchedule.fireTimesBetween', () => {
  const s = CronSchedule.parse('0 * * * *');

  it('excludes from, includes to, ascending', () => {
    expect(isos(s.fireTimesBetween(at('2026-01-01T01:00:00Z'), at('2026-01-01T04:00:00Z'), 10))).toEqual([
      '2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z', '2026-01-01T04:00:00.000Z',
    ]);
  });

  it('returns the most recent `limit` fire times', () => {
    expect(isos(s.fireTimesBetween(at('2026-01-01T00:00:00Z'), at('2026-01-02T00:30:00Z'), 2))).toEqual([
      '2026-01-01T23:00:00.000Z', '2026-01-02T00:00:00.000Z',
    ]);
    expect(s.fireTimesBetween(at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), 0)).toEqual([]);
    expect(s.fireTimesBetween(at('2026-01-01T00:10:00Z'), at('2026-01-01T00:50:00Z'), 5)).toEqual([]);
  });

  it('handles a long window of a per-second schedule by walking back only `limit` fires', () => {
    const secondly = CronSchedule.parse('* * * * * *', 'Europe/Berlin');
    const times = secondly.fireTimesBetween(at('2025-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z'), 3);
    expect(isos(times)).toEqual(['2025-12-31T23:59:58.000Z', '2025-12-31T23:59:59.000Z', '2026-01-01T00:00:00.000Z']);
  });
});

describe('CronSchedule: schedules that fire at the same seconds of every UTC hour', () => {
  /** A seconds or minutes field: `*`, a value, a list, a range, or a step. */
  const field = (max: number) =>
    fc.oneof(
      fc.constant('*'),
      fc.integer({ min: 0, max }).map(String),
      fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 2, maxLength: 4 }).map((v) => v.join(',')),
      fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.integer({ min: 1, max: 30 }).map((n) => `*/${n}`),
      fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 25 })).map(([a, n]) => `${a}/${n}`),
    );
  const expression = fc.oneof(
    fc.tuple(field(59), field(59)).map(([s, m]) => `${s} ${m} * * * *`),
    field(59).map((m) => `${m} * * * *`),
    fc.tuple(field(59), field(59)).map(([s, m]) => `${s} ${m} * * * ?`.replace(' ?', ' *')),
  );
  // Instants over a few days, whole seconds and not, at and around the fires.
  const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 4) }).chain((t) => fc.constantFrom(t, Math.floor(t / 1000) * 1000, Math.floor(t / 60_000) * 60_000));

  it('answer next, previous and fireTimesBetween exactly as cron-parser does', () => {
    fc.assert(
      fc.property(expression, instant, fc.integer({ min: 0, max: 7_200_000 }), fc.integer({ min: 1, max: 50 }), (cron, t, span, limit) => {
        const fast = CronSchedule.parse(cron);
        const slow = CronSchedule.parse(cron, 'UTC', { hourlyArithmetic: false });
        const d = new Date(t);
        expect(fast.next(d).toISOString()).toBe(slow.next(d).toISOString());
        expect(fast.previous(d)?.toISOString()).toBe(slow.previous(d)?.toISOString());
        expect(isos(fast.fireTimesBetween(d, new Date(t + span), limit))).toEqual(isos(slow.fireTimesBetween(d, new Date(t + span), limit)));
        expect(chain(fast, d.toISOString(), 5)).toEqual(chain(slow, d.toISOString(), 5));
      }),
      { numRuns: 600 },
    );
  });

  it('a time zone other than UTC, or an hour, day or month named, goes through cron-parser', () => {
    const berlin = CronSchedule.parse('* * * * * *', 'Europe/Berlin');
    const hourly = CronSchedule.parse('0 0 3 * * *');
    expect(berlin.next(at('2026-03-29T00:59:59Z')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(hourly.next(at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-01-01T03:00:00.000Z');
  });
});

describe('CronSchedule answers remembered as intervals', () => {
  it('gives, for instants asked in any order, what a fresh schedule gives (DST zones, yearly, every minute)', () => {
    const cases: Array<[string, string]> = [
      ['30 2 * * *', 'America/New_York'],
      ['0 30 1 * * *', 'Europe/Berlin'],
      ['0 0 0 1 1 *', 'UTC'],
      ['0 */7 * * * *', 'Europe/Berlin'],
      ['0 0 12 * * 1', 'Australia/Lord_Howe'],
    ];
    // Around 2026's DST changes in both hemispheres, and a plain stretch; shuffled deterministically.
    const bases = [Date.UTC(2026, 2, 7, 22), Date.UTC(2026, 2, 29, 0), Date.UTC(2026, 3, 4, 14), Date.UTC(2026, 9, 25, 0), Date.UTC(2026, 10, 1, 4), Date.UTC(2026, 5, 1)];
    const instants: number[] = [];
    for (const b of bases) for (let k = 0; k < 40; k++) instants.push(b + ((k * 7919) % 40) * 9 * 60_000 + (k % 3) * 1000);
    for (const [cron, zone] of cases) {
      const memo = CronSchedule.parse(cron, zone);
      for (let round = 0; round < 2; round++) {
        for (const t of instants) {
          const fresh = CronSchedule.parse(cron, zone);
          expect(memo.next(new Date(t)), `${cron} ${zone} next(${new Date(t).toISOString()})`).toEqual(fresh.next(new Date(t)));
          expect(memo.previous(new Date(t)), `${cron} ${zone} previous(${new Date(t).toISOString()})`).toEqual(CronSchedule.parse(cron, zone).previous(new Date(t)));
        }
      }
      const from = new Date(bases[0]!);
      const to = new Date(bases[0]! + 3 * 86_400_000);
      expect(memo.fireTimesBetween(from, to, 100)).toEqual(CronSchedule.parse(cron, zone).fireTimesBetween(from, to, 100));
    }
  });
});
