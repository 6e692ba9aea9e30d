import type { JobDefinition } from '../config/job-definition.js';
import { decodeJson, encodeJson } from './json-codec.js';

/** The job definition as stored at `/jobs/<job>` (JSON). */
export const encodeJob = (def: JobDefinition): Buffer => encodeJson(def);

export function decodeJob(data: Buffer | undefined): JobDefinition | undefined {
  const def = decodeJson<JobDefinition>(data);
  return def && typeof def.name === 'string' && typeof def.shards === 'number' && typeof def.cron === 'string' ? def : undefined;
}
