import { ConfigError, type ConfigProblem } from '../errors/config-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { CronSchedule } from '../cron/cron-schedule.js';
import { ConfigReader, isMapping, joinKey, type RawMapping } from './config-reader.js';
import {
  DEFAULT_RETRY, JOB_DEFAULTS, JOB_NAME_PATTERN, MAX_ATTEMPTS, MAX_CATCH_UP, MAX_COMMAND_ARGS, MAX_COMMAND_LENGTH,
  MAX_CRON_LENGTH, MAX_DEFINITION_BYTES, MAX_FAILOVERS, MAX_JOB_NAME_LENGTH, MAX_PARAMETER_LENGTH, MAX_SHARDS, MAX_TIME_ZONE_LENGTH,
  MISFIRE_POLICIES, OVERLAP_POLICIES, SANDBOX_MODES, SHARDING_STRATEGIES, type JobDefinition, type RetryPolicy,
} from './job-definition.js';
import { parseItemParameters } from './parse-item-parameters.js';
import type { WorkerJobConfig } from './worker-config.js';

/** The keys a job entry may have. */
export const JOB_KEYS = [
  'name', 'cron', 'timeZone', 'shards', 'itemParameters', 'jobParameter', 'handler', 'command', 'strategy',
  'overlap', 'misfire', 'maxCatchUp', 'failover', 'timeoutMs', 'retry', 'sandbox', 'maxFailovers', 'overwrite', 'description',
] as const;
export const RETRY_KEYS = ['attempts', 'backoffMs', 'maxBackoffMs'] as const;

const MAX_INT = Number.MAX_SAFE_INTEGER;

/** Where a job entry is: its file and its index in the list; `listKey` names the list (`jobs`). */
export interface JobLocation {
  file?: string;
  index: number;
  /** @default 'jobs' */
  listKey?: string;
}

/**
 * Validates one job entry of a config file and applies the defaults of {@link JobDefinition}.
 * Reports every problem found, each with the file, the job (its name when known), the key (e.g.
 * `jobs[1].retry.attempts`) and the bad value. `job` is set only when there are no problems.
 */
export function validateJob(raw: unknown, where: JobLocation): { job?: WorkerJobConfig; problems: ConfigProblem[] } {
  const path = `${where.listKey ?? 'jobs'}[${where.index}]`;
  const r = new ConfigReader(where.file, jobNameOf(raw));
  const obj = r.mapping(raw, path, JOB_KEYS);
  if (obj === undefined) return { problems: r.problems };

  const name = r.string(obj, path, 'name', undefined, {
    pattern: JOB_NAME_PATTERN, patternText: '[a-z0-9][a-z0-9-_.]*', maxLength: MAX_JOB_NAME_LENGTH,
  });
  const timeZone = r.string(obj, path, 'timeZone', JOB_DEFAULTS.timeZone, { nonEmpty: true, maxLength: MAX_TIME_ZONE_LENGTH });
  const cron = r.string(obj, path, 'cron', undefined, { maxLength: MAX_CRON_LENGTH });
  if (cron !== undefined) checkSchedule(r, path, cron, timeZone);
  const shards = r.integer(obj, path, 'shards', 1, MAX_SHARDS);
  const itemParameters = readItemParameters(r, obj, path, shards);
  const jobParameter = r.string(obj, path, 'jobParameter', JOB_DEFAULTS.jobParameter, { maxLength: MAX_PARAMETER_LENGTH });
  const target = readTarget(r, obj, path);
  const strategy = r.choice(obj, path, 'strategy', SHARDING_STRATEGIES, JOB_DEFAULTS.strategy);
  const overlap = r.choice(obj, path, 'overlap', OVERLAP_POLICIES, JOB_DEFAULTS.overlap);
  const misfire = r.choice(obj, path, 'misfire', MISFIRE_POLICIES, JOB_DEFAULTS.misfire);
  const maxCatchUp = r.integer(obj, path, 'maxCatchUp', 1, MAX_CATCH_UP, JOB_DEFAULTS.maxCatchUp);
  const failover = r.boolean(obj, path, 'failover', JOB_DEFAULTS.failover);
  const timeoutMs = r.integer(obj, path, 'timeoutMs', 0, MAX_INT, JOB_DEFAULTS.timeoutMs);
  const retry = readRetry(r, obj.retry, joinKey(path, 'retry'));
  const sandbox = r.choice(obj, path, 'sandbox', SANDBOX_MODES, JOB_DEFAULTS.sandbox);
  if (sandbox !== undefined && sandbox !== 'none' && obj.command !== undefined && obj.handler === undefined) {
    r.report(joinKey(path, 'sandbox'), 'applies to module handlers only (a script job always runs in its own process); remove it or use "handler"', sandbox);
  }
  const maxFailovers = r.integer(obj, path, 'maxFailovers', 0, MAX_FAILOVERS, JOB_DEFAULTS.maxFailovers);
  const overwrite = r.boolean(obj, path, 'overwrite', false);
  const description = r.string(obj, path, 'description', JOB_DEFAULTS.description, { maxLength: MAX_PARAMETER_LENGTH });

  if (r.problems.length > 0) return { problems: r.problems };
  const definition: JobDefinition = {
    name: name!, cron: cron!, timeZone: timeZone!, shards: shards!, itemParameters: itemParameters!,
    jobParameter: jobParameter!, ...target, strategy: strategy!, overlap: overlap!, misfire: misfire!,
    maxCatchUp: maxCatchUp!, failover: failover!, timeoutMs: timeoutMs!, retry: retry!, sandbox: sandbox!,
    maxFailovers: maxFailovers!, description: description!,
  };
  const bytes = Buffer.byteLength(JSON.stringify(definition), 'utf8');
  if (bytes > MAX_DEFINITION_BYTES) {
    r.report(path, `is ${bytes} bytes as stored, more than the ${MAX_DEFINITION_BYTES} a job definition can have (shorten its parameters)`);
    return { problems: r.problems };
  }
  return { job: { definition, overwrite: overwrite! }, problems: [] };
}

/**
 * Validates a list of job entries (as {@link validateJob}) and reports the same name used twice,
 * naming both indexes. Returns the valid jobs and every problem.
 */
export function validateJobList(raws: readonly unknown[], file?: string, listKey = 'jobs'): { jobs: WorkerJobConfig[]; problems: ConfigProblem[] } {
  const jobs: WorkerJobConfig[] = [];
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  raws.forEach((raw, index) => {
    const result = validateJob(raw, { file, index, listKey });
    problems.push(...result.problems);
    if (result.job) jobs.push(result.job);
    const name = jobNameOf(raw);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else {
      const p: ConfigProblem = { key: `${listKey}[${index}].name`, job: name, value: name,
        message: `duplicate job name: ${listKey}[${first}] and ${listKey}[${index}] are both "${name}"` };
      problems.push(file === undefined ? p : { file, ...p });
    }
  });
  return { jobs, problems };
}

/**
 * Validates job definitions from a file given to `zkctl apply` (same rules as a worker's config,
 * duplicate names rejected). `overwrite` is accepted and ignored: apply always replaces.
 * @throws ConfigError carrying every problem.
 */
export function validateJobDefinitions(raws: readonly unknown[], file?: string, listKey = 'jobs'): JobDefinition[] {
  const { jobs, problems } = validateJobList(raws, file, listKey);
  if (problems.length > 0) throw new ConfigError(problems);
  return jobs.map((j) => j.definition);
}

/** The name of a job entry when it has a string one, to name the job in its problems. */
function jobNameOf(raw: unknown): string | undefined {
  const name = isMapping(raw) ? raw.name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * What parsing each (cron, zone) gave: null, or the error's code and message. Parsing costs about
 * a millisecond and a fleet has few distinct schedules, while every stored definition a worker or
 * the leader reads is checked with these rules; bounded by clearing.
 */
const scheduleChecks = new Map<string, { code: string; message: string } | null>();
const MAX_SCHEDULE_CHECKS = 10_000;

function parseError(cron: string, zone: string): { code: string; message: string } | null {
  const key = `${zone}\u0000${cron}`;
  const known = scheduleChecks.get(key);
  if (known !== undefined) return known;
  let outcome: { code: string; message: string } | null = null;
  try {
    CronSchedule.parse(cron, zone);
  } catch (err) {
    if (!(err instanceof ZkshardError)) throw err;
    outcome = { code: err.code, message: err.message };
  }
  if (scheduleChecks.size >= MAX_SCHEDULE_CHECKS) scheduleChecks.clear();
  scheduleChecks.set(key, outcome);
  return outcome;
}

function checkSchedule(r: ConfigReader, path: string, cron: string, timeZone: string | undefined): void {
  for (const zone of timeZone === undefined ? ['UTC'] : [timeZone, 'UTC']) {
    const err = parseError(cron, zone);
    if (err === null) return;
    if (err.code === 'TIMEZONE_INVALID') r.report(joinKey(path, 'timeZone'), err.message, zone);
    else return r.report(joinKey(path, 'cron'), err.message, cron);
  }
}

function readItemParameters(r: ConfigReader, obj: RawMapping, path: string, shards: number | undefined): Record<string, string> | undefined {
  const key = joinKey(path, 'itemParameters');
  const { parameters, problems } = parseItemParameters(obj.itemParameters, key);
  r.adopt(problems);
  if (parameters === undefined || shards === undefined) return parameters;
  const outside = Object.keys(parameters).filter((item) => Number(item) >= shards);
  for (const item of outside) r.report(`${key}.${item}`, `item ${item} does not exist: shards is ${shards} (items 0..${shards - 1})`, parameters[item]);
  return outside.length === 0 ? parameters : undefined;
}

/** Exactly one of `handler` (a non-empty string) and `command` (a non-empty string or argv). */
function readTarget(r: ConfigReader, obj: RawMapping, path: string): Pick<JobDefinition, 'handler' | 'command'> {
  const { handler, command } = obj;
  if (handler === undefined && command === undefined) {
    r.report(path, 'needs exactly one of "handler" (a module) or "command" (a script job); it has neither');
    return {};
  }
  if (handler !== undefined && command !== undefined) {
    r.report(joinKey(path, 'command'), 'needs exactly one of "handler" or "command"; it has both', command);
    return {};
  }
  if (handler !== undefined) {
    const h = r.string(obj, path, 'handler', undefined, { nonEmpty: true, maxLength: MAX_COMMAND_LENGTH });
    return h === undefined ? {} : { handler: h };
  }
  const argvOk = Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string') && command[0] !== '';
  if (!argvOk && !(typeof command === 'string' && command.trim() !== '')) {
    r.report(joinKey(path, 'command'), 'must be a non-empty string or a non-empty list of strings (argv)', command);
    return {};
  }
  const parts = typeof command === 'string' ? [command] : (command as string[]);
  if (parts.length > MAX_COMMAND_ARGS) {
    r.report(joinKey(path, 'command'), `must have at most ${MAX_COMMAND_ARGS} arguments (has ${parts.length})`);
    return {};
  }
  const long = parts.findIndex((a) => a.length > MAX_COMMAND_LENGTH);
  if (long >= 0) {
    const key = typeof command === 'string' ? joinKey(path, 'command') : `${joinKey(path, 'command')}[${long}]`;
    r.report(key, `must be at most ${MAX_COMMAND_LENGTH} characters (has ${parts[long]!.length})`);
    return {};
  }
  return { command: command as string | string[] };
}

function readRetry(r: ConfigReader, raw: unknown, path: string): RetryPolicy | undefined {
  const obj = r.mapping(raw, path, RETRY_KEYS, true);
  if (obj === undefined) return undefined;
  const attempts = r.integer(obj, path, 'attempts', 1, MAX_ATTEMPTS, DEFAULT_RETRY.attempts);
  const backoffMs = r.integer(obj, path, 'backoffMs', 0, MAX_INT, DEFAULT_RETRY.backoffMs);
  // Unset, the bound grows with a larger backoffMs instead of contradicting it.
  const maxDefault = Math.max(DEFAULT_RETRY.maxBackoffMs, backoffMs ?? 0);
  const maxBackoffMs = r.integer(obj, path, 'maxBackoffMs', 0, MAX_INT, maxDefault);
  if (maxBackoffMs !== undefined && backoffMs !== undefined && maxBackoffMs < backoffMs) {
    r.report(joinKey(path, 'maxBackoffMs'), `must be >= backoffMs (${backoffMs})`, maxBackoffMs);
    return undefined;
  }
  if (attempts === undefined || backoffMs === undefined || maxBackoffMs === undefined) return undefined;
  return { attempts, backoffMs, maxBackoffMs };
}
