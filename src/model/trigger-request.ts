import { MAX_SHARDS } from '../config/job-definition.js';
import { checkedJson, encodeJson } from './json-codec.js';
import { FieldProblem, integers, isoTime, object } from './record-fields.js';
import { malformed, type Decoded } from './decoded.js';

/** A manual trigger (`/jobs/<job>/triggers/t-<seq>`), written by `zkctl trigger`. */
export interface TriggerRequest {
  /** The items to run, or null for every item of the job. */
  items: number[] | null;
  /** ISO time of the request. */
  requestedAt?: string;
}

export const encodeTrigger = (t: TriggerRequest): Buffer => encodeJson(t);

/**
 * Reads a trigger request. Anything but `{ items: [distinct item numbers] | null, requestedAt? }`
 * is malformed, and so is a node without data: a trigger that cannot be read triggers nothing
 * (never "all items").
 */
export function readTrigger(data: Buffer | undefined, path: string): Decoded<TriggerRequest> {
  const d = checkedJson(data, path, (raw): TriggerRequest => {
    const o = object(raw, 'trigger');
    if (!('items' in o)) throw new FieldProblem('items must be a list of items or null (it is missing)');
    const t: TriggerRequest = { items: o.items === null ? null : integers(o.items, 'items', 0, MAX_SHARDS - 1) };
    if (o.requestedAt !== undefined) t.requestedAt = isoTime(o.requestedAt, 'requestedAt');
    return t;
  }, 64 * 1024 + MAX_SHARDS * 8);
  if (!d.ok) return d;
  return d.value === undefined ? malformed(path, 'no data (a trigger request is { items, requestedAt })') : { ok: true, value: d.value };
}
