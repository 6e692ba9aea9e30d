import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseWorkerConfig } from '../../src/config/load-worker-config.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { encodeJob, readJob } from '../../src/model/job-record.js';
import { MAX_PARAMETER_LENGTH } from '../../src/config/job-definition.js';
import { validJob } from '../support/job-arbitrary.js';

const FILE = '/etc/zkshard/worker.yaml';

/** Parses, returning the config or the ConfigError; anything else thrown fails the property. */
function load(text: string): { config?: ReturnType<typeof parseWorkerConfig>; error?: ConfigError } {
  try {
    return { config: parseWorkerConfig(text, FILE, {}, {}) };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err };
    throw err;
  }
}

describe('config loader properties', () => {
  it('any text, any YAML value: a config or one ConfigError whose every problem names the file and a key', () => {
    const doc = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => stringify(v)),
      fc.dictionary(fc.constantFrom('zookeeper', 'worker', 'logging', 'jobs', 'other'), fc.jsonValue()).map((v) => stringify(v)),
      fc.array(fc.dictionary(fc.constantFrom('name', 'cron', 'shards', 'handler', 'command', 'itemParameters', 'retry', 'x'), fc.jsonValue()), { maxLength: 3 }).map((jobs) => stringify({ jobs })),
    );
    fc.assert(fc.property(doc, (text) => {
      const { error } = load(text);
      if (!error) return;
      expect(error.problems.length).toBeGreaterThan(0);
      for (const p of error.problems) {
        expect(p.file).toBe(FILE);
        expect(typeof p.key).toBe('string');
        expect(p.message.length).toBeGreaterThan(0);
      }
    }), { numRuns: 150 });
  });

  it('every valid job loads as written, and what a worker stores reads back the same (config and decode share their bounds)', () => {
    fc.assert(fc.property(fc.array(validJob(), { minLength: 1, maxLength: 3 }).filter((jobs) => new Set(jobs.map((j) => j.name)).size === jobs.length), (jobs) => {
      const { config, error } = load(stringify({ jobs }));
      expect(error).toBeUndefined();
      expect(config!.jobs.map((j) => j.definition)).toEqual(jobs);
      for (const def of jobs) expect(readJob(encodeJob(def), `/zkshard/jobs/${def.name}`, def.name)).toEqual({ ok: true, value: def });
    }), { numRuns: 30 });
  });

  const hostile: Array<[string, unknown, RegExp]> = [
    ['shards', 1_000_000_000, /must be an integer from 1 to 10000/],
    ['shards', 2.5, /must be an integer from 1 to 10000/],
    ['jobParameter', 'x'.repeat(MAX_PARAMETER_LENGTH + 1), /must be at most 10000 characters/],
    ['itemParameters', { 0: 'y'.repeat(MAX_PARAMETER_LENGTH + 1) }, /parameter must be at most 10000 characters/],
    ['cron', 'c'.repeat(500), /must be at most 200 characters/],
    ['command', Array.from({ length: 2000 }, () => 'a'), /at most 1000 arguments/],
    ['retry', { attempts: 1e9 }, /must be an integer from 1 to 100/],
    ['maxCatchUp', -1, /must be an integer from 1 to 1000/],
  ];
  it('a value out of bounds in any valid job is one problem naming that key; no job is returned', () => {
    fc.assert(fc.property(validJob(), fc.constantFrom(...hostile), (def, [key, value, message]) => {
      const job: Record<string, unknown> = { ...def, [key]: value };
      if (key === 'command') delete job.handler;
      const { config, error } = load(stringify({ jobs: [job] }));
      expect(config).toBeUndefined();
      const problem = error!.problems.find((p) => p.key.startsWith(`jobs[0].${key}`));
      expect(problem?.message).toMatch(message);
    }), { numRuns: 40 });
  });
});
