import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig, parseWorkerConfig } from '../../src/config/load-worker-config.js';
import { ConfigError, type ConfigProblem } from '../../src/errors/config-error.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '../fixtures/config');
const fixture = (name: string) => join(fixtures, name);
const NO_ENV = {};

/** The ConfigError `f` throws (fails when it does not). */
async function configError(f: () => unknown): Promise<ConfigError> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}

const parse = (text: string, overrides = {}, env: NodeJS.ProcessEnv = NO_ENV) => parseWorkerConfig(text, '/etc/zkshard/worker.yaml', overrides, env);
const problemsOf = async (text: string, overrides = {}, env: NodeJS.ProcessEnv = NO_ENV): Promise<readonly ConfigProblem[]> =>
  (await configError(() => parse(text, overrides, env))).problems;

describe('loadWorkerConfig', () => {
  it('loads the example of PRODUCT.md', async () => {
    const config = await loadWorkerConfig(fixture('worker.yaml'), {}, NO_ENV);
    expect(config).toEqual({
      zookeeper: { connect: '127.0.0.1:2181', namespace: 'zkshard', sessionTimeoutMs: 6000, maxRequestBytes: 1_000_000 },
      worker: { id: 'worker-a', labels: { zone: 'a' }, capacity: 1, shutdownGraceMs: 30_000, maxClockSkewMs: 5000 },
      logging: { level: 'info', format: 'json' },
      jobs: [{
        overwrite: false,
        definition: {
          name: 'sync-orders', cron: '*/5 * * * * *', timeZone: 'Asia/Shanghai', shards: 4,
          itemParameters: { 0: 'beijing', 1: 'shanghai' }, jobParameter: 'batch=500', handler: './jobs/sync-orders.js',
          strategy: 'sticky', overlap: 'skip', misfire: 'fire-once', maxCatchUp: 10, failover: true, timeoutMs: 60_000,
          retry: { attempts: 3, backoffMs: 1000, maxBackoffMs: 30_000 }, sandbox: 'none', maxFailovers: 1, description: '',
        },
      }],
      file: fixture('worker.yaml'),
      baseDir: fixtures,
    });
  });

  it('loads the repository\'s config/worker.yaml (the demo\'s)', async () => {
    const config = await loadWorkerConfig(resolve(here, '../../config/worker.yaml'), {}, NO_ENV);
    expect(config.jobs.length).toBeGreaterThan(0);
  });

  it('applies every default', async () => {
    const config = await loadWorkerConfig(fixture('minimal.yaml'), {}, NO_ENV);
    expect(config.zookeeper).toEqual({ connect: '127.0.0.1:2181', namespace: 'zkshard', sessionTimeoutMs: 6000, maxRequestBytes: 1_000_000 });
    expect(config.worker).toEqual({ id: `${hostname()}-${process.pid}`, labels: {}, capacity: 1, shutdownGraceMs: 30_000, maxClockSkewMs: 5000 });
    expect(config.logging).toEqual({ level: 'info', format: 'json' });
    expect(config.jobs).toEqual([{
      overwrite: false,
      definition: {
        name: 'nightly-report', cron: '0 2 * * *', timeZone: 'UTC', shards: 1, itemParameters: {}, jobParameter: '',
        command: './bin/report.sh', strategy: 'sticky', overlap: 'skip', misfire: 'fire-once', maxCatchUp: 10,
        failover: true, timeoutMs: 0, retry: { attempts: 1, backoffMs: 1000, maxBackoffMs: 30_000 }, sandbox: 'none', maxFailovers: 1, description: '',
      },
    }]);
    for (const empty of ['', '# nothing\n', 'zookeeper:\nworker:\nlogging:\njobs:\n']) expect(parse(empty).jobs).toEqual([]);
  });

  it('names the file and the OS error when the file cannot be read', async () => {
    const missing = join(tmpdir(), 'zkshard-no-such-dir', 'worker.yaml');
    const e = await configError(() => loadWorkerConfig(missing, {}, NO_ENV));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatchObject({ file: missing, key: '' });
    expect(e.message).toContain(missing);
    expect(e.message).toContain('ENOENT');
    expect(e.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('reports a YAML syntax error with its line and column', async () => {
    const e = await configError(() => loadWorkerConfig(fixture('bad-syntax.yaml'), {}, NO_ENV));
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.problems[0]).toMatchObject({ file: fixture('bad-syntax.yaml'), key: '' });
    expect(e.problems[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+: .*quote/);
    const dup = await problemsOf('worker:\n  id: a\n  id: b\n');
    expect(dup[0]!.message).toBe('YAML syntax error at line 3, column 3: Map keys must be unique');
    const bomb = await problemsOf(`a: &a [1]\nb: [${Array(200).fill('*a').join(',')}]\n`);
    expect(bomb).toEqual([{ file: '/etc/zkshard/worker.yaml', key: '', message: expect.stringMatching(/^YAML error: Excessive alias count/) }]);
  });

  it('reports every problem of a bad file in one error, each with file, job, key and value', async () => {
    const file = fixture('bad-values.yaml');
    const e = await configError(() => loadWorkerConfig(file, {}, NO_ENV));
    const got = e.problems.map((p) => ({ job: p.job, key: p.key, value: p.value }));
    expect(got).toEqual([
      { job: undefined, key: 'metrics', value: true },
      { job: undefined, key: 'zookeeper.retries', value: 3 },
      { job: undefined, key: 'zookeeper.namespace', value: 'fleet/one' },
      { job: undefined, key: 'zookeeper.sessionTimeoutMs', value: 500 },
      { job: undefined, key: 'worker.id', value: '-worker' },
      { job: undefined, key: 'worker.capacity', value: 0 },
      { job: undefined, key: 'logging.level', value: 'verbose' },
      { job: 'sync-orders', key: 'jobs[0].timeZone', value: 'Asia/Shangai' },
      { job: 'sync-orders', key: 'jobs[0].command', value: './bin/sync.sh' },
      { job: 'sync-orders', key: 'jobs[0].retry.attempts', value: 0 },
      { job: 'Rebuild_Index', key: 'jobs[1].name', value: 'Rebuild_Index' },
      { job: 'Rebuild_Index', key: 'jobs[1].cron', value: '61 * * * *' },
      { job: 'Rebuild_Index', key: 'jobs[1].itemParameters.3', value: 'products' },
      { job: 'Rebuild_Index', key: 'jobs[1].misfire', value: 'later' },
      { job: 'sync-orders', key: 'jobs[2].name', value: 'sync-orders' },
    ]);
    for (const p of e.problems) expect(p.file).toBe(file);
    expect(e.message).toContain('15 problems:');
    expect(e.message).toContain(`${file}: job "sync-orders": jobs[2].name: duplicate job name: jobs[0] and jobs[2] are both "sync-orders"`);
    expect(e.message).toContain(`${file}: metrics: unknown key "metrics" (allowed: zookeeper, worker, logging, history, jobs) (got: true)`);
  });

  describe('top-level shape', () => {
    it('requires a mapping at the top and in each section', async () => {
      expect(await problemsOf('- a\n- b\n')).toMatchObject([{ key: '', message: 'must be a mapping', value: ['a', 'b'] }]);
      expect(await problemsOf('worker: 3\nlogging: [json]\n')).toMatchObject([
        { key: 'worker', message: 'must be a mapping', value: 3 },
        { key: 'logging', message: 'must be a mapping', value: ['json'] },
      ]);
    });

    it('requires jobs to be a list', async () => {
      expect(await problemsOf('jobs:\n  sync-orders: { cron: "* * * * *" }\n')).toMatchObject([
        { key: 'jobs', message: 'must be a list of jobs', value: { 'sync-orders': { cron: '* * * * *' } } },
      ]);
    });

    it('rejects unknown keys in each section, listing the allowed ones', async () => {
      const problems = await problemsOf('zookeeper: { chroot: /x }\nworker: { weight: 2 }\nlogging: { pretty: true }\n');
      expect(problems.map((p) => [p.key, p.message])).toEqual([
        ['zookeeper.chroot', 'unknown key "chroot" (allowed: connect, namespace, sessionTimeoutMs, maxRequestBytes, auth, acl, tls)'],
        ['worker.weight', 'unknown key "weight" (allowed: id, labels, capacity, shutdownGraceMs, maxClockSkewMs, http)'],
        ['logging.pretty', 'unknown key "pretty" (allowed: level, format)'],
      ]);
    });
  });

  describe('settings', () => {
    it.each([
      ['zookeeper: { connect: "" }', 'zookeeper.connect', 'must not be empty', ''],
      ['zookeeper: { connect: "a:1, b:2" }', 'zookeeper.connect', 'must match host:port[,host:port...][/chroot]', 'a:1, b:2'],
      ['zookeeper: { namespace: "/zkshard" }', 'zookeeper.namespace', 'must match [A-Za-z0-9][A-Za-z0-9._-]* (no slashes)', '/zkshard'],
      ['zookeeper: { sessionTimeoutMs: 600001 }', 'zookeeper.sessionTimeoutMs', 'must be an integer from 1000 to 600000', 600_001],
      ['zookeeper: { sessionTimeoutMs: "6s" }', 'zookeeper.sessionTimeoutMs', 'must be an integer from 1000 to 600000', '6s'],
      ['zookeeper: { maxRequestBytes: 1000 }', 'zookeeper.maxRequestBytes', 'must be an integer from 524288 to 268435456', 1000],
      ['worker: { id: "worker a" }', 'worker.id', 'must match [A-Za-z0-9][A-Za-z0-9._@:-]*', 'worker a'],
      [`worker: { id: ${'w'.repeat(129)} }`, 'worker.id', 'must be at most 128 characters (has 129)', 'w'.repeat(129)],
      ['worker: { labels: [a] }', 'worker.labels', 'must be a mapping of label names to values', ['a']],
      ['worker: { labels: { zone: [a] } }', 'worker.labels.zone', 'must be a string', ['a']],
      ['worker: { capacity: -1 }', 'worker.capacity', 'must be a finite number > 0', -1],
      ['worker: { capacity: .inf }', 'worker.capacity', 'must be a finite number > 0', Infinity],
      ['worker: { capacity: "2" }', 'worker.capacity', 'must be a finite number > 0', '2'],
      ['worker: { shutdownGraceMs: -5 }', 'worker.shutdownGraceMs', 'must be an integer >= 0', -5],
      ['worker: { maxClockSkewMs: 1.5 }', 'worker.maxClockSkewMs', 'must be an integer >= 0', 1.5],
      ['worker: { http: { port: 70000 } }', 'worker.http.port', 'must be an integer from 0 to 65535', 70000],
      ['logging: { level: loud }', 'logging.level', 'must be one of: fatal, error, warn, info, debug, trace, silent', 'loud'],
      ['logging: { format: text }', 'logging.format', 'must be one of: json, pretty', 'text'],
    ])('%s is a problem', async (text, key, message, value) => {
      expect(await problemsOf(text)).toEqual([{ file: '/etc/zkshard/worker.yaml', key, message, value }]);
    });

    it('accepts the edges of each range and a chroot', () => {
      const c = parse('zookeeper: { connect: "a:1,b:2/apps/zk", namespace: A.b_c-1, sessionTimeoutMs: 1000, maxRequestBytes: 4000000 }\n'
        + `worker: { id: "w@host:1.a_b-c${'x'.repeat(114)}", capacity: 0.5, shutdownGraceMs: 0, labels: { rack: 7 } }\n`
        + 'logging: { level: silent, format: pretty }\n');
      expect(c.zookeeper).toEqual({ connect: 'a:1,b:2/apps/zk', namespace: 'A.b_c-1', sessionTimeoutMs: 1000, maxRequestBytes: 4_000_000 });
      expect(c.worker.id).toHaveLength(128);
      expect(c.worker).toMatchObject({ capacity: 0.5, shutdownGraceMs: 0, labels: { rack: '7' } });
      expect(c.logging).toEqual({ level: 'silent', format: 'pretty' });
      expect(parse('zookeeper: { sessionTimeoutMs: 600000 }').zookeeper.sessionTimeoutMs).toBe(600_000);
    });
  });

  describe('overrides', () => {
    const text = 'zookeeper: { connect: "file:2181", namespace: file-ns }\nworker: { id: file-id }\n';
    const env = { ZKSHARD_ZK: 'env:2181', ZKSHARD_NAMESPACE: 'env-ns', ZKSHARD_WORKER_ID: 'env-id' };
    const flags = { zk: 'flag:2181', namespace: 'flag-ns', id: 'flag-id' };
    const pick = (c: ReturnType<typeof parse>) => [c.zookeeper.connect, c.zookeeper.namespace, c.worker.id];

    it('flags win over the environment, which wins over the file', () => {
      expect(pick(parse(text))).toEqual(['file:2181', 'file-ns', 'file-id']);
      expect(pick(parse(text, {}, env))).toEqual(['env:2181', 'env-ns', 'env-id']);
      expect(pick(parse(text, flags, env))).toEqual(['flag:2181', 'flag-ns', 'flag-id']);
      expect(pick(parse(text, { namespace: 'flag-ns' }, { ZKSHARD_ZK: 'env:2181' }))).toEqual(['env:2181', 'flag-ns', 'file-id']);
      expect(pick(parse('', { id: 'flag-id' }, {}))).toEqual(['127.0.0.1:2181', 'zkshard', 'flag-id']);
    });

    it('ignores empty and undefined values', () => {
      expect(pick(parse(text, { zk: undefined, namespace: '' }, { ZKSHARD_ZK: '', ZKSHARD_WORKER_ID: undefined }))).toEqual(['file:2181', 'file-ns', 'file-id']);
    });

    it('checks override values by the same rules, naming where they came from', async () => {
      const problems = await problemsOf(text, { id: 'bad id', zk: 'h:1' }, { ZKSHARD_NAMESPACE: 'a/b', ZKSHARD_ZK: 'x y' });
      expect(problems).toEqual([
        { key: 'zookeeper.connect', value: 'x y', message: 'must match host:port[,host:port...][/chroot] (set by environment variable ZKSHARD_ZK)' },
        { key: 'zookeeper.namespace', value: 'a/b', message: 'must match [A-Za-z0-9][A-Za-z0-9._-]* (no slashes) (set by environment variable ZKSHARD_NAMESPACE)' },
        { key: 'worker.id', value: 'bad id', message: 'must match [A-Za-z0-9][A-Za-z0-9._@:-]* (set by flag --id)' },
      ]);
    });

    it('reports file problems and override problems together', async () => {
      const problems = await problemsOf('worker: { capacity: 0 }', { namespace: '../x' });
      expect(problems.map((p) => p.key)).toEqual(['worker.capacity', 'zookeeper.namespace']);
    });

    it('reads process.env by default', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'zkshard-config-'));
      const saved = process.env.ZKSHARD_WORKER_ID;
      try {
        const file = join(dir, 'w.yaml');
        await writeFile(file, 'worker: { id: file-id }\n');
        process.env.ZKSHARD_WORKER_ID = 'from-process-env';
        expect((await loadWorkerConfig(file)).worker.id).toBe('from-process-env');
        expect((await loadWorkerConfig(file, { id: 'from-flag' })).worker.id).toBe('from-flag');
        expect((await loadWorkerConfig(file, {}, {})).worker.id).toBe('file-id');
      } finally {
        if (saved === undefined) delete process.env.ZKSHARD_WORKER_ID;
        else process.env.ZKSHARD_WORKER_ID = saved;
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('files in a temporary directory', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'zkshard-config-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('sets file and baseDir from the path, resolved', async () => {
      const file = join(dir, 'sub.yaml');
      await writeFile(file, 'jobs: []\n');
      const config = await loadWorkerConfig(file, {}, NO_ENV);
      expect(config.file).toBe(file);
      expect(config.baseDir).toBe(dir);
    });

    it('rejects duplicate job names, naming both indexes', async () => {
      const file = join(dir, 'dup.yaml');
      const job = (name: string) => `  - { name: ${name}, cron: "0 * * * *", shards: 1, handler: ./h.js }\n`;
      await writeFile(file, `jobs:\n${job('a')}${job('b')}${job('a')}`);
      const e = await configError(() => loadWorkerConfig(file, {}, NO_ENV));
      expect(e.problems).toEqual([{ file, job: 'a', key: 'jobs[2].name', value: 'a', message: 'duplicate job name: jobs[0] and jobs[2] are both "a"' }]);
    });

    it('reports a directory as unreadable', async () => {
      const e = await configError(() => loadWorkerConfig(dir, {}, NO_ENV));
      expect(e.message).toContain(dir);
      expect(e.message).toContain('EISDIR');
    });
  });
});
