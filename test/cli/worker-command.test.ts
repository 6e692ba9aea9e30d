import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZKSHARD_BIN, RECORD_HANDLER } from '../support/worker-process.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';

describe('zkshard worker: bad config', () => {
  let ctx: ZkTestContext;
  let dir: string;
  afterEach(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(config: string, args: string[] = []) {
    const file = join(dir, 'worker.yaml');
    writeFileSync(file, config);
    const res = spawnSync(process.execPath, [ZKSHARD_BIN, 'worker', '--config', file, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ZKSHARD_ZK: '', ZKSHARD_NAMESPACE: '', ZKSHARD_WORKER_ID: '' } });
    return { ...res, file };
  }

  it('reports every problem with file, job, key and value, exits 2, and writes nothing to ZooKeeper', async () => {
    ctx = new ZkTestContext('bad-config');
    dir = mkdtempSync(join(tmpdir(), 'zkshard-badcfg-'));
    const { status, stderr, file } = run(`
zookeeper: { connect: "${zkConnect()}", namespace: ${ctx.namespace} }
jobs:
  - name: good
    cron: "* * * * * *"
    shards: 2
    handler: ${RECORD_HANDLER}
  - name: broken
    cron: "61 * * * * *"
    timeZone: Mars/Olympus
    shards: 0
    handler: ./a.js
    command: ["x"]
    colour: blue
  - name: good
    cron: "* * * * *"
    shards: 1
    itemParameters: "0=a,5=b"
    handler: ./b.js
`);
    expect(status).toBe(2);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/job "broken".*cron/);
    expect(stderr).toContain('61 * * * * *');
    expect(stderr).toMatch(/job "broken".*timeZone/);
    expect(stderr).toContain('Mars/Olympus');
    expect(stderr).toMatch(/job "broken".*shards/);
    expect(stderr).toMatch(/job "broken".*(handler|command)/);
    expect(stderr).toMatch(/colour/);
    expect(stderr).toMatch(/duplicate|already/i);
    expect(stderr).toMatch(/itemParameters/);
    const zk = await ctx.client();
    expect(await zk.exists(ctx.paths.root)).toBeNull(); // nothing written
  });

  it('a missing file and bad flags are usage errors (exit 2)', () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-badcfg-'));
    const missing = spawnSync(process.execPath, [ZKSHARD_BIN, 'worker', '--config', join(dir, 'nope.yaml')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
    const noConfig = spawnSync(process.execPath, [ZKSHARD_BIN, 'worker'], { encoding: 'utf8' });
    expect(noConfig.status).toBe(2);
    expect(noConfig.stderr).toMatch(/--config/);
    const badId = run('jobs: []\n', ['--id', 'bad id!']);
    expect(badId.status).toBe(2);
    expect(badId.stderr).toContain('bad id!');
  });
});
