import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { ZkshardError } from '../errors/zkshard-error.js';
import { IntervalMemo } from './interval-memo.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How long after a UTC-offset change the DST handling of cron-parser depends on its walk. */
const TRANSITION_WINDOW_MS = 3 * HOUR_MS;
/** `previous()` looks back at most this far. */
const PREVIOUS_LOOKBACK_MS = 366 * DAY_MS;

/**
 * A parsed cron schedule in one IANA time zone, on top of cron-parser 5 (luxon underneath).
 *
 * Fire times are the instants cron-parser produces when it walks forward through time (the
 * "canonical walk"). Near a DST change cron-parser's answers depend on where a walk starts (a
 * fresh `next()` inside the landing hour misses the shifted fire; `prev()` returns the second pass
 * of a repeated hour and skips shifted fires); this class corrects for that, so `next`, `previous`
 * and `fireTimesBetween` all agree with the canonical walk whatever instant they are asked about.
 *
 * Daylight-saving semantics (asserted by the tests with exact instants):
 * - Spring forward (a wall-clock hour is skipped): a fire whose time falls in the skipped hour runs
 *   once, in the hour the clock lands on, shifted by the gap — `30 2 * * *` fires at 03:30 EDT on
 *   2026-03-08 in New York (07:30Z) and at 03:30 CEST on 2026-03-29 in Berlin (01:30Z).
 * - Fall back (a wall-clock hour repeats): a schedule that names its hours fires only in the first
 *   pass — `30 1 * * *` in New York fires 01:30 EDT (05:30Z) on 2026-11-01, not 01:30 EST again;
 *   `30 2 * * *` in Berlin fires 02:30 CEST (00:30Z) on 2026-10-25 only.
 * - A schedule whose hour field is `*` (e.g. `0/15 * * * *`) is plain elapsed time: it fires in both
 *   passes of a repeated hour and has no fires at wall times that do not exist, so it keeps firing
 *   every 15 real minutes through both changes.
 * Fire times are strictly increasing and never repeat; their milliseconds are 0. Day-of-month and
 * day-of-week both restricted means either matches (classic cron).
 *
 * Speed: one instance keeps its parsed expression; `next(t)` with `t` the previous result of `next`
 * continues the walk without restarting it (tens of microseconds). A schedule in UTC that names no
 * hour, day or month (every second, every fifth minute, at :30 of every minute...) fires at the
 * same seconds of every hour: it is answered by arithmetic on those seconds, without cron-parser
 * (a worker with thousands of every-second items asks for a next fire per item per second).
 */
export class CronSchedule {
  readonly cron: string;
  readonly timeZone: string;
  readonly #expr: CronExpression;
  /** Whether the hour field is `*`: then cron-parser's DST handling is off and every walk agrees. */
  readonly #everyHour: boolean;
  /** The instant `#expr` sits at after a forward step of the canonical walk, or NaN. */
  #cursor = Number.NaN;
  /** When the schedule fires at the same seconds of every UTC hour: those instants, as ms into the hour, ascending. */
  readonly #hourly: readonly number[] | null;
  /**
   * Answers of `next` (the first fire after t: the same for every t from t up to it) and of the
   * canonical floor (the latest fire at or before t: the same for every t from it up to t) already
   * computed through cron-parser. A walk through luxon costs tens of KB of garbage and up to
   * milliseconds (a yearly schedule's floor: about a megabyte); a worker taking over thousands of
   * items of one schedule asks the same questions over and over.
   */
  readonly #nextMemo = new IntervalMemo();
  readonly #floorMemo = new IntervalMemo();

  private constructor(cron: string, timeZone: string, expr: CronExpression, hourlyArithmetic: boolean) {
    this.cron = cron;
    this.timeZone = timeZone;
    this.#expr = expr;
    this.#everyHour = expr.fields.hour.values.length === 24;
    this.#hourly = hourlyArithmetic ? sameEveryHour(expr, timeZone) : null;
  }

  /**
   * Parses 6 fields (seconds first) or 5 fields (seconds = 0) in `timeZone` (IANA name).
   * `options.hourlyArithmetic: false` answers every schedule through cron-parser (the tests compare
   * the two).
   * @throws ZkshardError `TIMEZONE_INVALID` or `CRON_INVALID`, naming the bad value.
   */
  static parse(cron: string, timeZone = 'UTC', options: { hourlyArithmetic?: boolean } = {}): CronSchedule {
    assertTimeZone(timeZone);
    const fail = (why: string, cause?: unknown): never => {
      throw new ZkshardError('CRON_INVALID', `invalid cron expression "${cron}": ${why}`, { cause });
    };
    if (typeof cron !== 'string') fail('not a string');
    const fields = cron.trim().split(/\s+/).filter((f) => f !== '');
    if (fields.length !== 5 && fields.length !== 6) fail(`expected 5 or 6 fields, got ${fields.length}`);
    // H would be spread by a random seed per process: workers would disagree on fire times.
    if (fields.some((f) => /H/.test(f.replace(/[a-z]{3}/gi, '')))) fail('hashed values (H) are not supported');
    let expr: CronExpression;
    try {
      expr = CronExpressionParser.parse(fields.join(' '), { tz: timeZone, currentDate: new Date(0) });
    } catch (err) {
      return fail((err as Error).message, err);
    }
    try {
      expr.next();
    } catch (err) {
      fail('it never fires', err);
    }
    return new CronSchedule(cron, timeZone, expr, options.hourlyArithmetic ?? true);
  }

  /** The first fire time strictly after `after`. */
  next(after: Date): Date {
    const t = after.getTime();
    if (this.#hourly) return new Date(hourlyNext(this.#hourly, t));
    const known = this.#nextMemo.get(t);
    if (known !== undefined) return new Date(known);
    if (t !== this.#cursor) {
      // Near a DST change cron-parser's answer depends on where its walk started: restart the
      // walk just before the change so the answer is the canonical one.
      const change = this.#everyHour ? null : offsetChangeIn(this.timeZone, t - TRANSITION_WINDOW_MS, t);
      this.#expr.reset(new Date(change === null ? t : change - 1000));
    }
    let ms: number;
    try {
      do ms = this.#expr.next().getTime();
      while (ms <= t);
    } catch (err) {
      this.#cursor = Number.NaN;
      throw new ZkshardError('CRON_NO_FIRE', `cron "${this.cron}" (${this.timeZone}): no fire time found after ${after.toISOString()}`, { cause: err });
    }
    this.#cursor = ms;
    this.#nextMemo.add(t, ms - 1, ms);
    return new Date(ms);
  }

  /**
   * The latest fire time at or before `atOrBefore`, or null when there is none within 366 days.
   */
  previous(atOrBefore: Date): Date | null {
    const t = atOrBefore.getTime();
    if (this.#hourly) return new Date(hourlyFloor(this.#hourly, t)!); // every hour has one
    const ms = this.#floor(t, t - PREVIOUS_LOOKBACK_MS);
    return ms === null ? null : new Date(ms);
  }

  /**
   * Fire times in `(fromExclusive, toInclusive]`, ascending. When there are more than `limit`,
   * returns the MOST RECENT `limit` of them (catch-up of missed fires runs the latest ones).
   */
  fireTimesBetween(fromExclusive: Date, toInclusive: Date, limit: number): Date[] {
    const from = fromExclusive.getTime();
    const out: Date[] = [];
    const hourly = this.#hourly;
    const floor = hourly ? (t: number, lowerBound: number) => hourlyFloor(hourly, t, lowerBound) : (t: number, lowerBound: number) => this.#floor(t, lowerBound);
    let ms = floor(toInclusive.getTime(), from);
    while (ms !== null && ms > from && out.length < limit) {
      out.push(new Date(ms));
      ms = floor(ms - 1, from);
    }
    return out.reverse();
  }

  /** The latest canonical fire time <= t and > lowerBound, or null. */
  #floor(t: number, lowerBound: number): number | null {
    const known = this.#floorMemo.get(t);
    const p = known ?? this.#canonicalFloor(t);
    if (known === undefined && p !== null) this.#floorMemo.add(p, t, p);
    return p !== null && p > lowerBound ? p : null;
  }

  /** The latest canonical fire time <= t, or null when cron-parser finds none. */
  #canonicalFloor(t: number): number | null {
    let p = this.#rawPrevious(t);
    if (!this.#everyHour) {
      // A match right after a DST change may not be canonical, and cron-parser's backward walk can
      // give up right after a skipped midnight: step back to before the change ...
      const change = p === null
        ? offsetChangeIn(this.timeZone, t - 2 * DAY_MS, t + 1000)
        : offsetChangeIn(this.timeZone, p - TRANSITION_WINDOW_MS, p);
      if (change !== null) p = this.#rawPrevious(change - 1000);
      // ... and walk forward, which also finds the fires shifted out of a skipped hour.
      for (let q = p === null ? null : this.next(new Date(p)); q !== null && q.getTime() <= t; q = this.next(q)) {
        p = q.getTime();
      }
    }
    return p;
  }

  /** cron-parser's latest wall-clock match <= t (no canonical correction), or null. */
  #rawPrevious(t: number): number | null {
    this.#cursor = Number.NaN;
    this.#expr.reset(new Date(t + 1));
    try {
      return this.#expr.prev().getTime();
    } catch {
      return null; // loop limit: nothing found
    }
  }
}

/**
 * The instants (ms into the hour, ascending) at which `expr` fires in every hour, when it fires at
 * the same ones in every hour: in UTC (no offset changes, whole-hour offset), with every hour, day
 * of month, month and day of week allowed. Otherwise null.
 */
function sameEveryHour(expr: CronExpression, timeZone: string): readonly number[] | null {
  const f = expr.fields;
  const all = (values: readonly unknown[], n: number) => values.length === n && values.every((v) => typeof v === 'number');
  if (timeZone !== 'UTC' || !all(f.hour.values, 24) || !all(f.dayOfMonth.values, 31) || !all(f.month.values, 12)) return null;
  if (!all(f.dayOfWeek.values, 8) && !all(f.dayOfWeek.values, 7)) return null;
  const key = `${f.second.values.join(',')} ${f.minute.values.join(',')}`;
  let out = hourlyOffsets.get(key);
  if (!out) {
    out = [];
    for (const m of f.minute.values) for (const sec of f.second.values) out.push((Number(m) * 60 + Number(sec)) * 1000);
    out.sort((a, b) => a - b);
    hourlyOffsets.set(key, out);
  }
  return out;
}

/** The offsets of each hourly pattern seen (a fleet has few distinct schedules and thousands of jobs). */
const hourlyOffsets = new Map<string, number[]>();

/** The first instant after `t` among `offsets` (ms into every hour, ascending). */
function hourlyNext(offsets: readonly number[], t: number): number {
  const base = Math.floor(t / HOUR_MS) * HOUR_MS;
  const i = firstAbove(offsets, t - base);
  return i < offsets.length ? base + offsets[i]! : base + HOUR_MS + offsets[0]!;
}

/** The latest instant at or before `t` among `offsets` (ms into every hour); null if not above `lowerBound`. */
function hourlyFloor(offsets: readonly number[], t: number, lowerBound = -Infinity): number | null {
  const base = Math.floor(t / HOUR_MS) * HOUR_MS;
  const i = firstAbove(offsets, t - base);
  const ms = i > 0 ? base + offsets[i - 1]! : base - HOUR_MS + offsets[offsets.length - 1]!;
  return ms > lowerBound ? ms : null;
}

/** The index of the first of `sorted` (ascending) above `r`; `sorted.length` when none is. */
function firstAbove(sorted: readonly number[], r: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** @throws ZkshardError `TIMEZONE_INVALID` unless `timeZone` is a zone Intl knows. */
function assertTimeZone(timeZone: string): void {
  try {
    if (typeof timeZone !== 'string' || timeZone === '') throw new RangeError('empty');
    offsetFormat(timeZone);
  } catch (err) {
    throw new ZkshardError('TIMEZONE_INVALID', `unknown time zone "${String(timeZone)}" (expected an IANA name such as Europe/Berlin)`, { cause: err });
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  return f;
}

/** UTC offset of `timeZone` at instant `t`, in ms (local = UTC + offset). */
function offsetAt(timeZone: string, t: number): number {
  const p: Record<string, number> = {};
  for (const part of offsetFormat(timeZone).formatToParts(t)) p[part.type] = Number(part.value);
  const local = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return local - Math.floor(t / 1000) * 1000;
}

/** The first whole second in (from, to] with a different UTC offset than `from`, or null. */
function offsetChangeIn(timeZone: string, from: number, to: number): number | null {
  const before = offsetAt(timeZone, from);
  if (offsetAt(timeZone, to) === before) return null;
  let lo = Math.floor(from / 1000); // seconds; offset(lo) === before
  let hi = Math.floor(to / 1000); // offset(hi) !== before
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timeZone, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}
