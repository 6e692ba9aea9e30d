import { decodeJson, encodeJson } from './json-codec.js';

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

/** Reads the compact form, and the long form (ISO strings, full keys) earlier versions wrote. */
export function decodeMarker(data: Buffer | undefined): RunningMarker | undefined {
  const raw = decodeJson<StoredMarker | (RunningMarker & { v?: undefined })>(data);
  if (!raw || typeof raw !== 'object') return undefined;
  if (raw.v !== 2) return raw as RunningMarker;
  return { member: raw.m, worker: raw.w, fireTime: new Date(raw.f).toISOString(), attempt: raw.a, startedAt: new Date(raw.f + raw.s).toISOString() };
}
