import type { ConfigProblem } from '../errors/config-error.js';
import { isMapping } from './config-reader.js';
import { MAX_PARAMETER_LENGTH } from './job-definition.js';

export interface ParsedItemParameters {
  /** Item number (canonical decimal, e.g. `"1"`) → parameter; set when there are no problems. */
  parameters?: Record<string, string>;
  problems: ConfigProblem[];
}

/**
 * Reads a job's `itemParameters`: a mapping `{ 0: beijing, 1: shanghai }` (YAML numeric or string
 * keys; string, number or boolean values, kept as strings) or the string `"0=beijing,1=shanghai"`
 * (split on `,`, then on the first `=`, both sides trimmed; empty entries are ignored). Keys must be
 * non-negative integers, parameters at most `MAX_PARAMETER_LENGTH` characters; the same item twice (`1` and `01` count as the same) is an error.
 * Whether the items exist (`< shards`) is the caller's check. Problems carry `key` (`key` itself,
 * or `key.<item>` for one entry) and the bad value, but no file or job.
 */
export function parseItemParameters(raw: unknown, key = 'itemParameters'): ParsedItemParameters {
  const problems: ConfigProblem[] = [];
  const entries: [string, unknown][] = [];
  if (raw === undefined || raw === null) return { parameters: {}, problems };
  if (typeof raw === 'string') {
    for (const part of raw.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq < 0) problems.push({ key, message: `entry "${part.trim()}" must look like <item>=<parameter>`, value: raw });
      else entries.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  } else if (isMapping(raw)) {
    entries.push(...Object.entries(raw));
  } else {
    problems.push({ key, message: 'must be a mapping { <item>: <parameter> } or a string "0=a,1=b"', value: raw });
  }
  const parameters: Record<string, string> = {};
  for (const [item, value] of entries) {
    if (!/^\d+$/.test(item) || !Number.isSafeInteger(Number(item))) {
      problems.push({ key: `${key}.${item}`, message: 'item must be a non-negative integer', value: item });
      continue;
    }
    const canonical = String(Number(item));
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push({ key: `${key}.${item}`, message: 'parameter must be a string', value });
    } else if (String(value).length > MAX_PARAMETER_LENGTH) {
      problems.push({ key: `${key}.${item}`, message: `parameter must be at most ${MAX_PARAMETER_LENGTH} characters (has ${String(value).length})` });
    } else if (canonical in parameters) {
      problems.push({ key: `${key}.${item}`, message: `item ${canonical} is given more than once`, value });
    } else {
      parameters[canonical] = String(value);
    }
  }
  return problems.length === 0 ? { parameters, problems } : { problems };
}
