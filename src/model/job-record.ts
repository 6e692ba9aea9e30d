import type { JobDefinition } from '../config/job-definition.js';
import { MAX_DEFINITION_BYTES } from '../config/job-definition.js';
import { validateJob } from '../config/validate-job.js';
import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { FieldProblem, show } from './record-fields.js';

/** The job definition as stored at `/jobs/<job>` (JSON). */
export const encodeJob = (def: JobDefinition): Buffer => encodeJson(def);

/**
 * Results by data buffer: the leader and the workers' caches hand the same Buffer over and over
 * while a definition does not change, and checking one (its cron in its zone) costs far more
 * than parsing it. Entries go with their buffers.
 */
const checked = new WeakMap<Buffer, { path: string; name: string | undefined; result: Decoded<JobDefinition | undefined> }>();

/** A copy the caller may change without changing the cached result. */
function copy(def: JobDefinition): JobDefinition {
  const out: JobDefinition = { ...def, itemParameters: { ...def.itemParameters }, retry: { ...def.retry } };
  if (Array.isArray(def.command)) out.command = [...def.command];
  return out;
}

/**
 * Reads a stored definition with the rules a config file's job passes (`validateJob`: every field,
 * its type and bounds, the cron, items of `itemParameters` below `shards`), so that nothing stored
 * can hold more than a valid file can. `name` (the job's node name) must match the stored name.
 * No data decodes to `undefined` (the node exists but no definition was stored).
 */
export function readJob(data: Buffer | undefined, path: string, name?: string): Decoded<JobDefinition | undefined> {
  const hit = data && checked.get(data);
  const result = hit && hit.path === path && hit.name === name ? hit.result : checkJob(data, path, name);
  if (data && !hit) checked.set(data, { path, name, result });
  return result.ok && result.value ? { ok: true, value: copy(result.value) } : result;
}

function checkJob(data: Buffer | undefined, path: string, name: string | undefined): Decoded<JobDefinition | undefined> {
  return checkedJson(data, path, (raw) => {
    const { job, problems } = validateJob(raw, { index: 0, listKey: 'definition' });
    if (problems.length > 0) {
      throw new FieldProblem(problems.map((p) => `${p.key.replace(/^definition\[0\]\.?/, '') || 'definition'} ${p.message}${'value' in p ? ` (got ${show(p.value)})` : ''}`).join('; '));
    }
    const def = job!.definition;
    if (name !== undefined && def.name !== name) throw new FieldProblem(`name must be the job's node name ${JSON.stringify(name)} (got ${show(def.name)})`);
    return def;
  }, MAX_DEFINITION_BYTES);
}

/** {@link readJob} without the reason: undefined for no data or malformed data. */
export function decodeJob(data: Buffer | undefined): JobDefinition | undefined {
  return valueOr(readJob(data, '/jobs/?'), undefined);
}
