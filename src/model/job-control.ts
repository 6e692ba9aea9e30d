import { decodeJson, encodeJson } from './json-codec.js';

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

export function decodeControl(data: Buffer | undefined): JobControl {
  const c = decodeJson<Partial<JobControl>>(data);
  return {
    disabled: c?.disabled === true,
    disabledItems: Array.isArray(c?.disabledItems) ? c.disabledItems.filter((i) => Number.isInteger(i)) : [],
    pins: c?.pins && typeof c.pins === 'object' ? c.pins : {},
  };
}
