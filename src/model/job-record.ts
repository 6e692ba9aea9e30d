import { JOB_DEFAULTS, SANDBOX_MODES, type JobDefinition } from '../config/job-definition.js';
import { decodeJson, encodeJson } from './json-codec.js';

/** The job definition as stored at `/jobs/<job>` (JSON). */
export const encodeJob = (def: JobDefinition): Buffer => encodeJson(def);

export function decodeJob(data: Buffer | undefined): JobDefinition | undefined {
  const def = decodeJson<JobDefinition>(data);
  if (!def || typeof def.name !== 'string' || typeof def.shards !== 'number' || typeof def.cron !== 'string') return undefined;
  // Definitions stored before `sandbox` and `maxFailovers` existed (or with a bad value) get the defaults.
  const sandbox = SANDBOX_MODES.includes(def.sandbox) ? def.sandbox : JOB_DEFAULTS.sandbox;
  const maxFailovers = Number.isSafeInteger(def.maxFailovers) && def.maxFailovers >= 0 ? def.maxFailovers : JOB_DEFAULTS.maxFailovers;
  return sandbox === def.sandbox && maxFailovers === def.maxFailovers ? def : { ...def, sandbox, maxFailovers };
}
