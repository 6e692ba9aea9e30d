import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { FieldProblem, MAX_ID_LENGTH, MAX_TIME_MS, integer, isoTime, object, string, timeMs } from './record-fields.js';

/**
 * The ephemeral `/jobs/<job>/items/<i>/running` node: held by the worker running the item, owned
 * by its ZooKeeper session, so it vanishes when that session ends. At most one exists per item.
 */
export interface RunningMarker {
  member: string;
  worker: string;
  fireTime: string;
  attempt: number;
  startedAt: string;
}

/** Stored compactly (one is created per run): `{ v: 2, m, w, f: fire ms, a, s: startedAt − fire }`. */
interface StoredMarker {
  v: 2;
  m: string;
  w: string;
  f: number;
  a: number;
  s: number;
}

export function encodeMarker(m: RunningMarker): Buffer {
  const f = Date.parse(m.fireTime);
  const stored: StoredMarker = { v: 2, m: m.member, w: m.worker, f, a: m.attempt, s: Date.parse(m.startedAt) - f };
  return encodeJson(stored);
}

/**
 * Reads a marker, in the compact form or the long form (ISO strings, full keys) earlier versions
 * wrote. No data decodes to `undefined`; note that a marker node that exists with malformed data
 * still means the item is held (the node, not its data, is the lock).
 */
export function readMarker(data: Buffer | undefined, path: string): Decoded<RunningMarker | undefined> {
  return checkedJson(data, path, (raw): RunningMarker => {
    const o = object(raw, 'marker');
    if (o.v === undefined) {
      return {
        member: string(o.member, 'member', MAX_ID_LENGTH), worker: string(o.worker, 'worker', MAX_ID_LENGTH),
        fireTime: isoTime(o.fireTime, 'fireTime'), attempt: integer(o.attempt, 'attempt', 0, 1_000_000), startedAt: isoTime(o.startedAt, 'startedAt'),
      };
    }
    if (o.v !== 2) throw new FieldProblem(`v must be 2 (got ${JSON.stringify(o.v)})`);
    const f = timeMs(o.f, 'f');
    return {
      member: string(o.m, 'm', MAX_ID_LENGTH), worker: string(o.w, 'w', MAX_ID_LENGTH), fireTime: new Date(f).toISOString(),
      attempt: integer(o.a, 'a', 0, 1_000_000), startedAt: new Date(f + integer(o.s, 's', -f, MAX_TIME_MS - f)).toISOString(),
    };
  });
}

/** {@link readMarker} without the reason: undefined for no data or malformed data. */
export function decodeMarker(data: Buffer | undefined): RunningMarker | undefined {
  return valueOr(readMarker(data, '/jobs/?/items/?/running'), undefined);
}
