import { FieldProblem } from './record-fields.js';
import { decoded, malformed, type Decoded } from './decoded.js';

/**
 * Largest record zkshard reads from a znode: ZooKeeper's default `jute.maxbuffer` (1 MiB).
 * Every record zkshard writes is far smaller; a larger one is malformed and is not parsed.
 */
export const MAX_RECORD_BYTES = 1_048_576;

/** Encodes a record as UTF-8 JSON for a znode. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Whether two values are the same as JSON holds them, whatever the order of their objects' keys
 * (a definition built by a program and one read back from ZooKeeper list their fields in other
 * orders). Undefined fields count as absent, as in JSON.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, sortedKeys) === JSON.stringify(b, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** Decodes a znode's JSON; undefined for empty, oversized or malformed data. */
export function decodeJson<T>(data: Buffer | undefined): T | undefined {
  if (!data || data.length === 0 || data.length > MAX_RECORD_BYTES) return undefined;
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Parses a znode's JSON and checks it with `build`, which throws a FieldProblem (record-fields.ts)
 * for a bad field. No data (or an empty node) decodes to `undefined`; data larger than `maxBytes`
 * is malformed without being parsed.
 */
export function checkedJson<T>(data: Buffer | undefined, path: string, build: (raw: unknown) => T, maxBytes = MAX_RECORD_BYTES): Decoded<T | undefined> {
  if (!data || data.length === 0) return decoded(undefined);
  if (data.length > maxBytes) return malformed(path, `${data.length} bytes, more than the ${maxBytes} a record of this kind can have`);
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch (err) {
    return malformed(path, `not JSON (${(err as Error).message})`, err);
  }
  try {
    return decoded(build(raw));
  } catch (err) {
    return malformed(path, err instanceof FieldProblem ? err.message : `does not decode (${(err as Error)?.message ?? String(err)})`, err);
  }
}
