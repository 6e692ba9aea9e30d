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

export const encodeMarker = (m: RunningMarker): Buffer => encodeJson(m);
export const decodeMarker = (data: Buffer | undefined): RunningMarker | undefined => decodeJson<RunningMarker>(data);
