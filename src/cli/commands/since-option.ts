import { InvalidArgumentError } from 'commander';

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Commander parser for `--since`/`--until`: an ISO 8601 time, or (`relative`) a duration back
 * from now such as `90s`, `15m`, `1h`, `7d`. A bad value is a usage error (exit 2).
 */
export function timeOption(name: string, relative: boolean, now: () => number = Date.now): (value: string) => Date {
  return (value: string) => {
    const v = value.trim();
    const m = /^(\d+)([smhd])$/.exec(v);
    if (m && relative) return new Date(now() - Number(m[1]) * UNITS_MS[m[2]!]!);
    const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) throw new InvalidArgumentError(`${name} must be ${relative ? 'a duration back from now (90s, 15m, 1h, 7d) or ' : ''}an ISO 8601 time (2026-05-20T10:00:00Z), got ${JSON.stringify(value)}`);
    return new Date(ms);
  };
}
