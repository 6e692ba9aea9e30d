import { describe, expect, it } from 'vitest';
import { validateJob, validateJobDefinitions, validateJobList } from '../../src/config/validate-job.js';
import { ConfigError, type ConfigProblem } from '../../src/errors/config-error.js';

const FILE = 'jobs.yaml';
const base = { name: 'sync-orders', cron: '*/5 * * * * *', shards: 4, handler: './jobs/sync-orders.js' };

/** Problems of `base` changed by `patch` (undefined removes a key), as job entry 1 of jobs.yaml. */
function problemsOf(patch: Record<string, unknown>): ConfigProblem[] {
  const raw: Record<string, unknown> = { ...base, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete raw[k];
  const { job, problems } = validateJob(raw, { file: FILE, index: 1 });
  if (problems.length > 0) expect(job).toBeUndefined();
  return problems;
}

/** Exactly one problem, at `key` of job "sync-orders" in jobs.yaml. */
function expectOne(patch: Record<string, unknown>, key: string, message: string | RegExp, value?: unknown): ConfigProblem {
  const problems = problemsOf(patch);
  expect(problems).toHaveLength(1);
  const p = problems[0]!;
  expect(p).toMatchObject({ file: FILE, key });
  expect(p.message).toMatch(message);
  if (arguments.length > 3) expect(p.value).toEqual(value);
  return p;
}

describe('validateJob', () => {
  it('applies the defaults of JobDefinition', () => {
    const { job, problems } = validateJob(base, { file: FILE, index: 0 });
    expect(problems).toEqual([]);
    expect(job).toEqual({
      overwrite: false,
      definition: {
        name: 'sync-orders', cron: '*/5 * * * * *', timeZone: 'UTC', shards: 4, itemParameters: {}, jobParameter: '',
        handler: './jobs/sync-orders.js', strategy: 'sticky', overlap: 'skip', misfire: 'fire-once', maxCatchUp: 10,
        failover: true, timeoutMs: 0, retry: { attempts: 1, backoffMs: 1000, maxBackoffMs: 30_000 }, sandbox: 'none', maxFailovers: 1, description: '',
      },
    });
  });

  it('keeps every value given', () => {
    const raw = {
      name: 'a.b-c_1', cron: '0 2 * * *', timeZone: 'Europe/Berlin', shards: 3, itemParameters: '0=x, 2 = z ',
      jobParameter: 'batch=5', command: ['./bin/x.sh', '--fast'], strategy: 'round-robin', overlap: 'queue',
      misfire: 'catch-up', maxCatchUp: 1000, failover: false, timeoutMs: 60_000,
      retry: { attempts: 100, backoffMs: 0, maxBackoffMs: 0 }, overwrite: true, description: 'nightly',
    };
    const { job } = validateJob(raw, { index: 0 });
    expect(job).toEqual({ overwrite: true, definition: { ...raw, itemParameters: { 0: 'x', 2: 'z' }, overwrite: undefined, sandbox: 'none', maxFailovers: 1 } });
    expect(job!.definition).not.toHaveProperty('overwrite');
    expect(job!.definition).not.toHaveProperty('handler');
  });

  it('rejects unknown keys, listing the allowed ones', () => {
    const p = expectOne({ sharding: 4 }, 'jobs[1].sharding', /unknown key "sharding" \(allowed: name, cron, timeZone, shards,.*description\)/, 4);
    expect(p.job).toBe('sync-orders');
  });

  it('rejects an entry that is not a mapping', () => {
    for (const raw of ['sync-orders', ['a'], null, 3]) {
      expect(validateJob(raw, { file: FILE, index: 2 }).problems).toEqual([{ file: FILE, key: 'jobs[2]', message: 'must be a mapping', value: raw }]);
    }
  });

  describe('name', () => {
    it('is required (no job to name then)', () => {
      const p = expectOne({ name: undefined }, 'jobs[1].name', 'is required');
      expect(p.job).toBeUndefined();
      expect(p).not.toHaveProperty('value');
    });
    it.each([['Sync_Orders'], ['-sync'], ['sync orders'], ['']])('rejects %j by its pattern', (name) => {
      expectOne({ name }, 'jobs[1].name', 'must match [a-z0-9][a-z0-9-_.]*', name);
    });
    it('is at most 100 characters', () => {
      expect(problemsOf({ name: 'a'.repeat(100) })).toEqual([]);
      const p = expectOne({ name: 'a'.repeat(101) }, 'jobs[1].name', 'at most 100 characters (has 101)', 'a'.repeat(101));
      expect(p.job).toBe('a'.repeat(101));
    });
    it('must be a string', () => {
      expectOne({ name: 42 }, 'jobs[1].name', 'must be a string', 42);
    });
  });

  describe('cron and timeZone', () => {
    it('requires cron', () => {
      expectOne({ cron: undefined }, 'jobs[1].cron', 'is required');
    });
    it.each([['* * * *', 'expected 5 or 6 fields, got 4'], ['61 * * * *', '61'], ['@hourly', 'expected 5 or 6 fields']])('rejects cron %j', (cron, text) => {
      const p = expectOne({ cron }, 'jobs[1].cron', /invalid cron expression/, cron);
      expect(p.message).toContain(text);
      expect(p.job).toBe('sync-orders');
    });
    it('rejects an unknown time zone', () => {
      expectOne({ timeZone: 'Asia/Shangai' }, 'jobs[1].timeZone', /unknown time zone "Asia\/Shangai"/, 'Asia/Shangai');
      expectOne({ timeZone: 8 }, 'jobs[1].timeZone', 'must be a string', 8);
    });
    it('reports a bad zone and a bad cron together', () => {
      expect(problemsOf({ timeZone: 'Nowhere/City', cron: '* * *' }).map((p) => p.key)).toEqual(['jobs[1].timeZone', 'jobs[1].cron']);
    });
  });

  describe('shards and itemParameters', () => {
    it.each([[0], [10_001], [2.5], ['4'], [null]])('rejects shards %j', (shards) => {
      expectOne({ shards }, 'jobs[1].shards', 'must be an integer from 1 to 10000', shards);
    });
    it('requires shards', () => {
      expectOne({ shards: undefined }, 'jobs[1].shards', 'is required');
    });
    it('accepts 1 and 10000 shards', () => {
      expect(problemsOf({ shards: 1 })).toEqual([]);
      expect(problemsOf({ shards: 10_000 })).toEqual([]);
    });
    it('rejects item parameters of items that do not exist', () => {
      expectOne({ itemParameters: { 0: 'a', 4: 'e' } }, 'jobs[1].itemParameters.4', 'item 4 does not exist: shards is 4 (items 0..3)', 'e');
      expectOne({ itemParameters: '0=a,7=h' }, 'jobs[1].itemParameters.7', /item 7 does not exist/, 'h');
    });
    it('reports the problems of the item parameters themselves', () => {
      expectOne({ itemParameters: '0=a,x=b' }, 'jobs[1].itemParameters.x', 'item must be a non-negative integer', 'x');
      expectOne({ itemParameters: '1=a,01=b' }, 'jobs[1].itemParameters.01', 'item 1 is given more than once', 'b');
      expectOne({ itemParameters: [1, 2] }, 'jobs[1].itemParameters', /must be a mapping/, [1, 2]);
    });
  });

  it('requires jobParameter to be a string', () => {
    expectOne({ jobParameter: 500 }, 'jobs[1].jobParameter', 'must be a string', 500);
  });

  describe('handler and command', () => {
    it('needs one of them', () => {
      const p = expectOne({ handler: undefined }, 'jobs[1]', 'needs exactly one of "handler" (a module) or "command" (a script job); it has neither');
      expect(p.job).toBe('sync-orders');
    });
    it('rejects both', () => {
      expectOne({ command: './x.sh' }, 'jobs[1].command', 'needs exactly one of "handler" or "command"; it has both', './x.sh');
    });
    it.each([[''], ['  '], [7]])('rejects handler %j', (handler) => {
      expectOne({ handler }, 'jobs[1].handler', /must (not be empty|be a string)/, handler);
    });
    it.each([[''], [[]], [['']], [[1]], [['./x.sh', 2]], [{ path: './x.sh' }]])('rejects command %j', (command) => {
      expectOne({ handler: undefined, command }, 'jobs[1].command', 'must be a non-empty string or a non-empty list of strings (argv)', command);
    });
    it('accepts a command string or argv', () => {
      expect(problemsOf({ handler: undefined, command: 'echo "$ZKSHARD_ITEM"' })).toEqual([]);
      expect(problemsOf({ handler: undefined, command: ['./x.sh', ''] })).toEqual([]);
    });
  });

  it.each([
    ['strategy', 'sticky, average, odevity, round-robin'],
    ['overlap', 'skip, queue, replace'],
    ['misfire', 'fire-once, skip, catch-up'],
  ])('rejects an unknown %s, listing the allowed values', (key, allowed) => {
    expectOne({ [key]: 'sometimes' }, `jobs[1].${key}`, `must be one of: ${allowed}`, 'sometimes');
  });

  it.each([[0], [1001], [1.5], ['10']])('rejects maxCatchUp %j', (maxCatchUp) => {
    expectOne({ maxCatchUp }, 'jobs[1].maxCatchUp', 'must be an integer from 1 to 1000', maxCatchUp);
  });

  it.each([['failover'], ['overwrite']])('requires %s to be a boolean', (key) => {
    expectOne({ [key]: 'yes' }, `jobs[1].${key}`, 'must be true or false', 'yes');
  });

  it.each([[-1], [0.5], ['60s']])('rejects timeoutMs %j', (timeoutMs) => {
    expectOne({ timeoutMs }, 'jobs[1].timeoutMs', 'must be an integer >= 0', timeoutMs);
  });

  it('requires description to be a string', () => {
    expectOne({ description: ['a'] }, 'jobs[1].description', 'must be a string', ['a']);
  });

  describe('retry', () => {
    it.each([[0], [101], [2.5]])('rejects attempts %j', (attempts) => {
      expectOne({ retry: { attempts } }, 'jobs[1].retry.attempts', 'must be an integer from 1 to 100', attempts);
    });
    it('rejects a negative backoffMs', () => {
      expectOne({ retry: { backoffMs: -1 } }, 'jobs[1].retry.backoffMs', 'must be an integer >= 0', -1);
    });
    it('rejects maxBackoffMs below backoffMs', () => {
      expectOne({ retry: { backoffMs: 5000, maxBackoffMs: 4000 } }, 'jobs[1].retry.maxBackoffMs', 'must be >= backoffMs (5000)', 4000);
    });
    it('rejects unknown keys and non-mappings', () => {
      expectOne({ retry: { attempts: 3, delay: 5 } }, 'jobs[1].retry.delay', 'unknown key "delay" (allowed: attempts, backoffMs, maxBackoffMs)', 5);
      expectOne({ retry: 3 }, 'jobs[1].retry', 'must be a mapping', 3);
    });
    it('fills in defaults, raising the default bound to a larger backoffMs', () => {
      const retry = (r: unknown) => validateJob({ ...base, retry: r }, { index: 0 }).job!.definition.retry;
      expect(retry({ attempts: 3 })).toEqual({ attempts: 3, backoffMs: 1000, maxBackoffMs: 30_000 });
      expect(retry({ backoffMs: 60_000 })).toEqual({ attempts: 1, backoffMs: 60_000, maxBackoffMs: 60_000 });
      expect(retry(null)).toEqual({ attempts: 1, backoffMs: 1000, maxBackoffMs: 30_000 });
    });
  });

  describe('sandbox and maxFailovers', () => {
    it('keeps the values given', () => {
      const def = (patch: Record<string, unknown>) => validateJob({ ...base, ...patch }, { index: 0 }).job!.definition;
      expect(def({ sandbox: 'thread', maxFailovers: 0 })).toMatchObject({ sandbox: 'thread', maxFailovers: 0 });
      expect(def({ sandbox: 'process', maxFailovers: 100 })).toMatchObject({ sandbox: 'process', maxFailovers: 100 });
      expect(def({ command: 'x.sh', handler: undefined, sandbox: 'none' })).toMatchObject({ sandbox: 'none' });
    });
    it.each([['threads'], [''], [true], [1]])('rejects sandbox %j, listing the modes', (sandbox) => {
      expectOne({ sandbox }, 'jobs[1].sandbox', 'must be one of: none, thread, process', sandbox);
    });
    it('rejects a sandbox for a script job', () => {
      expectOne({ handler: undefined, command: ['./x.sh'], sandbox: 'thread' }, 'jobs[1].sandbox', /module handlers only/, 'thread');
    });
    it.each([[-1], [101], [1.5], ['1']])('rejects maxFailovers %j', (maxFailovers) => {
      expectOne({ maxFailovers }, 'jobs[1].maxFailovers', 'must be an integer from 0 to 100', maxFailovers);
    });
  });

  it('reports every problem of an entry, not just the first', () => {
    const problems = problemsOf({ name: 'Bad Name', shards: 0, strategy: 'random', retry: { attempts: 0 }, colour: 'red' });
    expect(problems.map((p) => p.key).sort()).toEqual(['jobs[1].colour', 'jobs[1].name', 'jobs[1].retry.attempts', 'jobs[1].shards', 'jobs[1].strategy']);
    for (const p of problems) expect(p).toMatchObject({ file: FILE, job: 'Bad Name' });
  });
});

describe('validateJobList and validateJobDefinitions', () => {
  const other = { ...base, name: 'rebuild-index' };

  it('rejects duplicate names, naming both indexes', () => {
    const { jobs, problems } = validateJobList([base, other, { ...base, cron: '0 * * * *' }], FILE);
    expect(jobs).toHaveLength(3);
    expect(problems).toEqual([{
      file: FILE, job: 'sync-orders', key: 'jobs[2].name', value: 'sync-orders',
      message: 'duplicate job name: jobs[0] and jobs[2] are both "sync-orders"',
    }]);
  });

  it('returns definitions when all are valid', () => {
    const defs = validateJobDefinitions([base, { ...other, overwrite: true }], FILE);
    expect(defs.map((d) => d.name)).toEqual(['sync-orders', 'rebuild-index']);
    expect(defs[1]).not.toHaveProperty('overwrite');
  });

  it('throws one ConfigError with every problem of every entry', () => {
    let error: unknown;
    try {
      validateJobDefinitions([{ ...base, shards: 0 }, 'x', { ...other, cron: 'nope' }, base], FILE, 'items');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems.map((p) => [p.key, p.job])).toEqual([
      ['items[0].shards', 'sync-orders'], ['items[1]', undefined], ['items[2].cron', 'rebuild-index'], ['items[3].name', 'sync-orders'],
    ]);
    expect(e.message).toContain('4 problems:');
    expect(e.message).toContain('jobs.yaml: job "sync-orders": items[0].shards: must be an integer from 1 to 10000 (got: 0)');
  });
});
