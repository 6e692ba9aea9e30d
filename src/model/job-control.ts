import { MAX_SHARDS } from '../config/job-definition.js';
import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { MAX_ID_LENGTH, boolean, entries, integers, itemKey, object, string } from './record-fields.js';

/**
 * Operator requests for one job (`/jobs/<job>/control`), written by `zkctl` with a version check
 * and honoured by the leader in the next assignment it writes.
 */
export interface JobControl {
  /** No item of the job fires. */
  disabled: boolean;
  /** Items that do not fire (ascending). */
  disabledItems: number[];
  /** Pinned items: item → worker id. A pin to a worker that is not live is ignored. */
  pins: Record<string, string>;
}

export const encodeControl = (c: JobControl): Buffer => encodeJson(c);

const EMPTY_CONTROL = (): JobControl => ({ disabled: false, disabledItems: [], pins: {} });

/**
 * Reads a job's control node. No node or no data is the empty control (nothing disabled or
 * pinned); a missing key is its empty value; a key of the wrong type or out of bounds is malformed.
 */
export function readControl(data: Buffer | undefined, path: string): Decoded<JobControl> {
  const d = checkedJson(data, path, (raw): JobControl => {
    const o = object(raw, 'control');
    return {
      disabled: o.disabled === undefined ? false : boolean(o.disabled, 'disabled'),
      disabledItems: o.disabledItems === undefined ? [] : integers(o.disabledItems, 'disabledItems', 0, MAX_SHARDS - 1),
      pins: o.pins === undefined ? {} : entries(o.pins, 'pins', MAX_SHARDS, itemKey(MAX_SHARDS - 1), (w, key) => string(w, key, MAX_ID_LENGTH)),
    };
  });
  return d.ok ? { ok: true, value: d.value ?? EMPTY_CONTROL() } : d;
}

/** {@link readControl} without the reason: the empty control for no data or malformed data. */
export function decodeControl(data: Buffer | undefined): JobControl {
  return valueOr(readControl(data, '/controls/?'), EMPTY_CONTROL());
}
