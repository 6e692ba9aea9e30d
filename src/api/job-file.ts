import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors/config-error.js';
import { isMapping } from '../config/config-reader.js';
import { validateJobDefinitions } from '../config/validate-job.js';
import type { JobDefinition } from '../config/job-definition.js';

/** Top-level keys of a worker config, accepted (and ignored but `jobs`) so a worker's file can be applied as is. */
const WORKER_CONFIG_KEYS = new Set(['zookeeper', 'worker', 'logging', 'jobs']);

/**
 * Parses the job definitions of a file for `zkctl apply`: YAML (or JSON) holding a list of jobs,
 * a mapping with a `jobs:` list (a worker config file works as is), or one job mapping. Jobs follow
 * the worker config's job schema, defaults applied; `overwrite` is accepted and ignored.
 * @throws ConfigError with every problem (file, job, key, value); nothing is read from ZooKeeper.
 */
export function parseJobFile(text: string, file: string): JobDefinition[] {
  const problems: ConfigProblem[] = [];
  const doc = parseDocument(text);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    problems.push({ file, key: '', message: pos ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${reason}` : `YAML syntax error: ${reason}` });
  }
  let data: unknown;
  if (problems.length === 0) {
    try {
      data = doc.toJS();
    } catch (err) {
      problems.push({ file, key: '', message: `YAML error: ${(err as Error).message}` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  let raws: unknown[];
  let listKey = 'jobs';
  if (Array.isArray(data)) {
    raws = data;
    listKey = '';
  } else if (isMapping(data) && 'name' in data && !('jobs' in data)) {
    raws = [data];
    listKey = 'job';
  } else if (isMapping(data)) {
    for (const key of Object.keys(data)) {
      if (!WORKER_CONFIG_KEYS.has(key)) problems.push({ file, key, message: `unknown key (expected a list of jobs, or a mapping with "jobs:")` });
    }
    if (data.jobs !== undefined && !Array.isArray(data.jobs)) problems.push({ file, key: 'jobs', message: 'must be a list of jobs', value: data.jobs });
    raws = Array.isArray(data.jobs) ? data.jobs : [];
  } else {
    problems.push({ file, key: '', message: 'expected a list of jobs, a mapping with "jobs:", or one job', value: data ?? null });
    raws = [];
  }
  if (problems.length === 0 && raws.length === 0) problems.push({ file, key: listKey, message: 'no jobs in the file: nothing to apply' });
  if (problems.length > 0) throw new ConfigError(problems);
  return validateJobDefinitions(raws, file, listKey);
}

/** Reads and parses a job file; an unreadable file is a `ConfigError` naming it. */
export async function readJobFile(file: string): Promise<JobDefinition[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, key: '', message: `cannot read file: ${(err as Error).message}` }], { cause: err });
  }
  return parseJobFile(text, file);
}
