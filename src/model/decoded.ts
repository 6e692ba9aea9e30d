import { MalformedDataError } from '../errors/malformed-data-error.js';

/**
 * What a checked decoder (`readJob`, `readProgress`, ...) returns: the record, or why the stored
 * data is not one. A node that does not exist, or has no data where that is legitimate, decodes
 * `ok` (to `undefined` or the record's empty form, as each reader documents): malformed is
 * always distinguishable from absent.
 */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: MalformedDataError };

export function decoded<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function malformed<T>(path: string, reason: string, cause?: unknown): Decoded<T> {
  return { ok: false, error: new MalformedDataError(path, reason, cause === undefined ? undefined : { cause }) };
}

/** The record, or `fallback` when the data was malformed. */
export function valueOr<T, F>(d: Decoded<T>, fallback: F): T | F {
  return d.ok ? d.value : fallback;
}
