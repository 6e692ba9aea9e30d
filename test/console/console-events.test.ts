import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { ConsoleApp } from '../../src/console/console-app.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { ConsoleClient, startConsole } from './console-fixture.js';

describe('console events across a ZooKeeper server restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkshard-console-events-'));
  let server: ZooKeeperServer | undefined;
  let worker: Worker | undefined;
  let app: ConsoleApp | undefined;

  afterAll(async () => {
    await app?.close();
    await worker?.shutdown();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same event stream goes on: session down, then up, then the changes made after it', async () => {
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
    server = new ZooKeeperServer();
    await server.start();
    worker = new Worker({
      connect: server.connectString, namespace: 'restart', sessionTimeoutMs: 4000, id: 'w1', shutdownGraceMs: 300,
      jobs: [{ definition: testJob('nightly', { cron: '0 0 0 1 1 *', shards: 2 }), overwrite: false }], baseDir: dir, logger: silentLogger(),
    });
    await worker.start();
    await waitFor(() => worker!.owned().nightly?.length === 2, { timeoutMs: 15_000, message: 'items owned' });
    app = await startConsole(server.connectString, 'restart', { sessionTimeoutMs: 3000 });
    const c = new ConsoleClient(app.url!);
    expect((await c.login('operator')).status).toBe(200);
    const stream = await c.events();
    await stream.waitFor('hello');

    await server.stop();
    await stream.waitFor('session', (d) => d.state === 'down', { timeoutMs: 20_000 });
    expect((await c.get('/api/v1/jobs')).status).toBe(503);
    await server.start();
    await stream.waitFor('session', (d) => d.state === 'up', { timeoutMs: 30_000 });

    const from = stream.events.length;
    expect((await c.request('POST', '/api/v1/jobs/nightly/disable', {})).status).toBe(200);
    await stream.waitFor('job', (d) => d.job === 'nightly' && d.change === 'control', { from, timeoutMs: 5000 });
    expect(stream.ended).toBe(false);
    stream.close();
  });
});
