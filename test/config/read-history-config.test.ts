import { describe, expect, test } from 'vitest';
import { parseWorkerConfig } from '../../src/config/load-worker-config.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { HISTORY_DEFAULTS } from '../../src/config/history-config.js';

const parse = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseWorkerConfig(yaml, '/etc/zkshard/worker.yaml', {}, env);
const problems = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
  try {
    parse(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError');
};

describe('history config', () => {
  test('absent: no history; ZKSHARD_PG_URL alone turns it on with the defaults', () => {
    expect(parse('jobs: []').history).toBeUndefined();
    expect(parse('jobs: []', { ZKSHARD_PG_URL: 'postgres://u:p@db:5432/zk' }).history).toEqual({ postgresUrl: 'postgres://u:p@db:5432/zk', retentionDays: HISTORY_DEFAULTS.retentionDays, maxRowsPerJob: HISTORY_DEFAULTS.maxRowsPerJob, bufferSize: HISTORY_DEFAULTS.bufferSize });
  });

  test('the file, with the env winning for the URL', () => {
    const yaml = 'history: { postgresUrl: "postgres://a@h/db", retentionDays: 7, maxRowsPerJob: 5000 }';
    expect(parse(yaml).history).toMatchObject({ postgresUrl: 'postgres://a@h/db', retentionDays: 7, maxRowsPerJob: 5000 });
    expect(parse(yaml, { ZKSHARD_PG_URL: 'postgresql://b@h2/db' }).history?.postgresUrl).toBe('postgresql://b@h2/db');
  });

  test('bad values: one problem each, naming the key and value; a password is never shown', () => {
    const e = problems('history: { postgresUrl: "mysql://root:hunter2@h/db", retentionDays: 0, maxRowsPerJob: 10, colour: blue }');
    expect(e.problems.map((p) => p.key).sort()).toEqual(['history.colour', 'history.maxRowsPerJob', 'history.postgresUrl', 'history.retentionDays']);
    expect(e.message).toContain('history.postgresUrl: must start with postgres:// or postgresql://, not mysql:// (got: "mysql://root:***@h/db")');
    expect(e.message).toContain('history.retentionDays: must be an integer from 1 to 3650 (got: 0)');
    expect(e.message).not.toContain('hunter2');
    const env = problems('jobs: []', { ZKSHARD_PG_URL: 'not a url :hunter2' });
    expect(env.message).toContain('(set by environment variable ZKSHARD_PG_URL)');
    expect(env.message).not.toContain('hunter2');
    expect(problems('history: { retentionDays: 3 }').message).toContain('history.postgresUrl: is required when history is configured (or set ZKSHARD_PG_URL)');
  });
});
