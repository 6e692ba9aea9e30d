/*
 * Field checks for the records zkshard stores in ZooKeeper. A decoder calls them on the parsed
 * JSON; the first bad field throws a FieldProblem naming the field, what it must be and the value
 * found (shortened), which `checkedJson` (json-codec.ts) turns into a MalformedDataError.
 */

/** The first bad field of a record; only thrown inside a decoder. */
export class FieldProblem extends Error {}

/** Latest time a JavaScript Date holds, in ms since the epoch. */
export const MAX_TIME_MS = 8.64e15;
/** Member node names (`m-<token>-<sequence>`) and other ids zkshard generates stay below this. */
export const MAX_ID_LENGTH = 200;
/** ISO times and other short text. */
export const MAX_SHORT_TEXT = 64;

/** A value as shown in a problem: JSON, at most 60 characters. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = Object.prototype.toString.call(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function fail(key: string, what: string, v: unknown): never {
  throw new FieldProblem(`${key} must be ${what} (got ${show(v)})`);
}

export function object(v: unknown, key: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'an object', v);
  return v as Record<string, unknown>;
}

export function string(v: unknown, key: string, maxLength: number, pattern?: RegExp): string {
  if (typeof v !== 'string') fail(key, 'a string', v);
  if (v.length > maxLength) throw new FieldProblem(`${key} must be at most ${maxLength} characters (has ${v.length})`);
  if (pattern && !pattern.test(v)) fail(key, `a string matching ${pattern.source}`, v);
  return v;
}

export function integer(v: unknown, key: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(key, `an integer from ${min} to ${max}`, v);
  return v;
}

export function number(v: unknown, key: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(key, `a number from ${min} to ${max}`, v);
  return v;
}

export function boolean(v: unknown, key: string): boolean {
  if (typeof v !== 'boolean') fail(key, 'true or false', v);
  return v;
}

export function oneOf<T extends string>(v: unknown, key: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(key, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

/** Time in ms since the epoch. */
export function timeMs(v: unknown, key: string): number {
  return integer(v, key, 0, MAX_TIME_MS);
}

/** An ISO 8601 time string that parses. */
export function isoTime(v: unknown, key: string): string {
  const s = string(v, key, MAX_SHORT_TEXT);
  if (Number.isNaN(Date.parse(s))) fail(key, 'an ISO time', v);
  return s;
}

export function array(v: unknown, key: string, maxLength: number): unknown[] {
  if (!Array.isArray(v)) fail(key, 'an array', v);
  if (v.length > maxLength) throw new FieldProblem(`${key} must have at most ${maxLength} entries (has ${v.length})`);
  return v;
}

/** An array of distinct integers in [min, max]. */
export function integers(v: unknown, key: string, min: number, max: number): number[] {
  const a = array(v, key, max - min + 1);
  a.forEach((x, i) => integer(x, `${key}[${i}]`, min, max));
  if (new Set(a).size !== a.length) fail(key, 'distinct integers', v);
  return a as number[];
}

/** An object of at most `maxEntries` entries whose keys and values pass the checks. */
export function entries<V>(v: unknown, key: string, maxEntries: number, checkKey: (k: string, key: string) => void, checkValue: (x: unknown, key: string) => V): Record<string, V> {
  const o = object(v, key);
  const keys = Object.keys(o);
  if (keys.length > maxEntries) throw new FieldProblem(`${key} must have at most ${maxEntries} entries (has ${keys.length})`);
  // Built with Object.fromEntries: every key becomes an own property, `__proto__` included (an
  // assignment would set the prototype instead: stored data must never reach it).
  return Object.fromEntries(
    keys.map((k) => {
      checkKey(k, `${key}.${k}`);
      return [k, checkValue(o[k], `${key}.${k}`)];
    }),
  );
}

/** A key that is an item number in [0, max] (canonical decimal). */
export function itemKey(max: number): (k: string, key: string) => void {
  return (k, key) => {
    if (!/^(0|[1-9]\d*)$/.test(k) || Number(k) > max) throw new FieldProblem(`${key}: key must be an item number from 0 to ${max}`);
  };
}
