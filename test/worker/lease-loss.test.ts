import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import { waitFor } from '../support/wait-for.js';
import { RECORD_HANDLER, type RunRecord } from '../support/worker-process.js';

const job: JobDefinition = {
  name: 'long', cron: '* * * * * *', timeZone: 'UTC', shards: 1, itemParameters: {}, jobParameter: 'sleepMs=60000', handler: RECORD_HANDLER,
  strategy: 'sticky', overlap: 'skip', misfire: 'fire-once', maxCatchUp: 10, failover: true, timeoutMs: 0,
  retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 }, sandbox: 'none', maxFailovers: 1, description: '',
};

describe('lease loss (ZooKeeper frozen)', () => {
  let server: ZooKeeperServer | undefined;
  let worker: Worker | undefined;
  let dir: string;
  afterEach(async () => {
    server?.resume();
    await worker?.shutdown();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aborts running handlers with LeaseLostError, starts nothing while cut off, and rejoins as a new member that re-runs the fire', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-lease-'));
    const file = join(dir, 'record.jsonl');
    writeFileSync(file, '');
    process.env.RECORD_FILE = file;
    const records = (): RunRecord[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunRecord);
    server = new ZooKeeperServer();
    await server.start();
    const sessionTimeoutMs = 3000;
    worker = new Worker({ connect: server.connectString, namespace: 'lease', sessionTimeoutMs, id: 'l1', shutdownGraceMs: 500, jobs: [{ definition: job, overwrite: false }], baseDir: dir, logger: silentLogger() });
    await worker.start();
    const firstMember = worker.memberName;
    await waitFor(() => records().some((r) => r.event === 'start'), { timeoutMs: 10_000, message: 'a run' });

    server.pause();
    const pausedAt = Date.now();
    await waitFor(() => records().some((r) => r.event === 'aborted'), { timeoutMs: 10_000, message: 'the run aborted' });
    const aborted = records().find((r) => r.event === 'aborted')!;
    expect(aborted.reason).toBe('LEASE_LOST');
    // Aborted within the session timeout of the freeze: before the server could expire the session.
    expect(aborted.at - pausedAt).toBeLessThan(sessionTimeoutMs);
    const startsWhileFrozen = () => records().filter((r) => r.event === 'start' && r.at > aborted.at);
    expect(worker.state).toBe('rejoining');

    const resumedAt = Date.now();
    expect(startsWhileFrozen()).toEqual([]); // nothing started without a lease
    server.resume();
    await waitFor(() => worker!.state === 'running' && worker!.memberName !== firstMember, { timeoutMs: 20_000, message: 'rejoined as a new member' });
    // The interrupted fire runs again (attempt 2) once the old session's marker is gone.
    await waitFor(() => records().some((r) => r.event === 'start' && r.fire === aborted.fire && r.attempt === 2), { timeoutMs: 20_000, message: 'interrupted fire re-run' });
    expect(records().filter((r) => r.event === 'start' && r.at > aborted.at && r.at < resumedAt)).toEqual([]);
  });
});
