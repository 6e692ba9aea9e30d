import { RequestError } from '../errors/request-error.js';

/** A JSON request body or query, checked field by field: a bad field is a 400 naming it and its value. */
export class RequestFields {
  private readonly obj: Record<string, unknown>;

  /** @throws RequestError REQUEST_INVALID unless `raw` is an object (or absent: `{}`) with only `allowed` keys. */
  constructor(raw: unknown, private readonly where: string, allowed: readonly string[]) {
    if (raw === undefined || raw === null || raw === '') raw = {};
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new RequestError('REQUEST_INVALID', `${where}: expected a JSON object, got ${JSON.stringify(raw)}`);
    this.obj = raw as Record<string, unknown>;
    const unknown = Object.keys(this.obj).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) throw new RequestError('REQUEST_INVALID', `${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected ${allowed.length ? allowed.join(', ') : 'none'})`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== '';
  }

  /** A whole number in [min, max] (a query's digits count), or undefined when absent. */
  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === '') return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got ${JSON.stringify(v)}`);
    }
    return n;
  }

  requiredInteger(key: string, min: number, max?: number): number {
    const n = this.integer(key, min, max);
    if (n === undefined) throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} is required`);
    return n;
  }

  /** true/false (a query's `1`/`0`/`true`/`false` count); `fallback` when absent. */
  boolean(key: string, fallback = false): boolean {
    const v = this.obj[key];
    if (v === undefined || v === '') return fallback;
    if (v === true || v === 'true' || v === '1') return true;
    if (v === false || v === 'false' || v === '0') return false;
    throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} must be true or false, got ${JSON.stringify(v)}`);
  }

  string(key: string, maxLength = 1000): string | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > maxLength) throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} must be a string of at most ${maxLength} characters, got ${JSON.stringify(v).slice(0, 100)}`);
    return v;
  }

  requiredString(key: string, maxLength?: number): string {
    const s = this.string(key, maxLength);
    if (s === undefined || s === '') throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} is required`);
    return s;
  }

  /** One of `choices`, or undefined when absent. */
  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.obj[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  /** A time: an ISO date, or a duration back from now (`15m`, `1h`, `7d`); undefined when absent. */
  time(key: string, now = Date.now()): Date | undefined {
    const v = this.string(key, 100);
    if (v === undefined || v === '') return undefined;
    const d = /^(\d+)(s|m|h|d)$/.exec(v.trim());
    if (d) return new Date(now - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd']);
    const t = /^\d{4}-\d{2}-\d{2}/.test(v.trim()) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(t)) throw new RequestError('REQUEST_INVALID', `${this.where}: ${key} must be an ISO time or a duration like 15m, 1h, 7d, got ${JSON.stringify(v)}`);
    return new Date(t);
  }

  raw(key: string): unknown {
    return this.obj[key];
  }
}
