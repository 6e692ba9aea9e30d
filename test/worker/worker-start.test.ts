import { afterEach, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { Worker } from '../../src/worker/worker.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { findFreePorts } from '../../src/testing/free-port.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';

describe('Worker start-up without ZooKeeper', () => {
  let server: ZooKeeperServer | undefined;
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.shutdown();
    await server?.close();
  });

  it('keeps trying, not ready, until ZooKeeper answers; then joins', async () => {
    const [port] = await findFreePorts(1);
    worker = new Worker({ connect: `127.0.0.1:${port}`, namespace: 'late', sessionTimeoutMs: 2000, id: 's1', http: { port: 0 }, jobs: [{ definition: testJob('later', { cron: '0 0 0 1 1 *', shards: 2 }), overwrite: false }], baseDir: tmpdir(), logger: silentLogger() });
    let started = false;
    const starting = worker.start().then(() => (started = true));
    await waitFor(() => worker!.httpPort > 0, { message: 'http endpoint up' });
    const notReady = await fetch(`http://127.0.0.1:${worker.httpPort}/readyz`);
    expect(notReady.status).toBe(503);
    expect(started).toBe(false);
    server = new ZooKeeperServer({ port });
    await server.start();
    await starting;
    await waitFor(() => worker!.owned().later?.length === 2, { timeoutMs: 15_000, message: 'items owned' });
    expect((await fetch(`http://127.0.0.1:${worker.httpPort}/readyz`)).status).toBe(200);
  });

  it('shutdown() while still trying ends start-up cleanly', async () => {
    const [port] = await findFreePorts(1);
    worker = new Worker({ connect: `127.0.0.1:${port}`, namespace: 'never', sessionTimeoutMs: 2000, id: 's2', jobs: [], baseDir: tmpdir(), logger: silentLogger() });
    const starting = worker.start();
    await worker.shutdown();
    await starting;
    expect(worker.state).toBe('stopped');
  });
});
