import { checkedJson } from './json-codec.js';
import type { Decoded } from './decoded.js';
import { entries, isoTime, object, string } from './record-fields.js';

/** `/jobs/<job>/items/<i>/stages`: which stages of which fire completed. */
export interface StageRecord {
  fireId: string;
  done: Record<string, { at: string; result?: unknown }>;
}

/** Stage names: what `ctx.stage` and the script protocol accept. */
export const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** Most stages one fire records. */
export const MAX_STAGES = 1000;
/** `<job>@<ISO fire time>#<item>`. */
const MAX_FIRE_ID_LENGTH = 200;

/**
 * Reads an item's stage record (the results are whatever JSON the handler returned, bounded by
 * the record's size). No data decodes to `undefined`. A malformed record means the stages a fire
 * completed are unknown: the run must not go on as if none were.
 */
export function readStageRecord(data: Buffer | undefined, path: string): Decoded<StageRecord | undefined> {
  return checkedJson(data, path, (raw): StageRecord => {
    const o = object(raw, 'stages');
    return {
      fireId: string(o.fireId, 'fireId', MAX_FIRE_ID_LENGTH),
      done: entries(o.done, 'done', MAX_STAGES, (k, key) => void string(k, key, 200, STAGE_NAME), (v, key) => {
        const d = object(v, key);
        const out: { at: string; result?: unknown } = { at: isoTime(d.at, `${key}.at`) };
        if (d.result !== undefined) out.result = d.result;
        return out;
      }),
    };
  });
}


