import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { Fleet, fleetConfig, RECORD_HANDLER } from '../support/worker-process.js';

/** The value of one sample of a metric in Prometheus text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length).split(' ')[0]!;
    if (wanted.every((w) => labelPart.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('worker HTTP endpoint: /metrics, /healthz, /readyz', () => {
  let ctx: ZkTestContext | undefined;
  let dir: string;
  const workers: Worker[] = [];
  let fleet: Fleet | undefined;
  let server: ZooKeeperServer | undefined;
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.shutdown()));
    await fleet?.close();
    fleet = undefined;
    await ctx?.close();
    ctx = undefined;
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(): void {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-http-'));
    process.env.RECORD_FILE = join(dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
  }
  const get = async (w: Worker, path: string) => {
    const res = await fetch(`http://127.0.0.1:${w.httpPort}${path}`);
    return { status: res.status, body: await res.text() };
  };

  it('counts runs, outcomes, lateness and ZooKeeper requests; healthz and readyz answer', async () => {
    setup();
    ctx = new ZkTestContext('http-metrics');
    const w = new Worker({
      connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'm1', http: { port: 0 },
      jobs: [
        { definition: testJob('ok', { shards: 2, jobParameter: 'sleepMs=10' }), overwrite: false },
        { definition: testJob('bad', { shards: 1, jobParameter: 'failUntil=99', retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 10 } }), overwrite: false },
      ],
      baseDir: dir, logger: silentLogger(),
    });
    workers.push(w);
    await w.start();
    const metrics = await waitFor(async () => {
      const text = (await get(w, '/metrics')).body;
      // The first runs of a new job may be catch-up runs; lateness counts regular fires only.
      const enough =
        sample(text, 'zkshard_runs_finished_total', { zkshard_job: 'ok', outcome: 'success' }) >= 2 &&
        sample(text, 'zkshard_runs_finished_total', { zkshard_job: 'bad', outcome: 'failed' }) >= 1 &&
        sample(text, 'zkshard_fire_lateness_seconds_count') > 0;
      return enough ? text : undefined;
    }, { timeoutMs: 15_000, message: 'runs counted' });
    expect(sample(metrics, 'zkshard_runs_started_total', { zkshard_job: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'zkshard_items_owned', { zkshard_job: 'ok' })).toBe(2);
    expect(sample(metrics, 'zkshard_leader')).toBe(1);
    expect(sample(metrics, 'zkshard_fire_lateness_seconds_count')).toBeGreaterThan(0);
    expect(sample(metrics, 'zkshard_run_duration_seconds_count', { zkshard_job: 'ok' })).toBeGreaterThan(0);
    expect(sample(metrics, 'zkshard_zk_request_duration_seconds_count', { op: 'multi' })).toBeGreaterThan(0);
    expect(sample(metrics, 'zkshard_zk_session_state', { state: 'connected' })).toBe(1);
    expect(sample(metrics, 'zkshard_assignment_generation', { zkshard_job: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'zkshard_rebalances_total')).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics).not.toMatch(/fire=|item=|error=/); // bounded labels only
    expect(await get(w, '/healthz')).toMatchObject({ status: 200 });
    const ready = await get(w, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, reasons: [] });
    expect((await get(w, '/nope')).status).toBe(404);
  });

  it('counts a failover: the survivor runs the killed worker\'s interrupted fire again', async () => {
    setup();
    ctx = new ZkTestContext('http-failover');
    const job = { name: 'slow', cron: '* * * * * *', shards: 2, handler: RECORD_HANDLER, jobParameter: 'sleepMs=4000' };
    const a = new Worker({ connect: zkConnect(), namespace: ctx.namespace, sessionTimeoutMs: 3000, id: 'a', http: { port: 0 }, jobs: [{ definition: testJob('slow', { shards: 2, jobParameter: 'sleepMs=4000' }), overwrite: false }], baseDir: dir, logger: silentLogger() });
    workers.push(a);
    await a.start();
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [job]));
    const b = fleet.start('b');
    await fleet.waitForRecords((r) => r.some((x) => x.worker === 'b' && x.event === 'start'), 'b runs an item', 20_000);
    b.kill('SIGKILL');
    await waitFor(async () => sample((await get(a, '/metrics')).body, 'zkshard_failovers_total', { zkshard_job: 'slow' }) >= 1, { timeoutMs: 20_000, message: 'failover counted' });
  });

  it('/readyz turns unready when ZooKeeper goes away and ready again when it returns', async () => {
    setup();
    server = new ZooKeeperServer();
    await server.start();
    const w = new Worker({ connect: server.connectString, namespace: 'ready', sessionTimeoutMs: 3000, id: 'r1', http: { port: 0 }, jobs: [{ definition: testJob('tick', { shards: 1, jobParameter: 'sleepMs=10' }), overwrite: false }], baseDir: dir, logger: silentLogger() });
    workers.push(w);
    await w.start();
    await waitFor(async () => (await get(w, '/readyz')).status === 200, { timeoutMs: 10_000, message: 'ready' });
    await server.stop();
    const unready = await waitFor(async () => {
      const r = await get(w, '/readyz');
      return r.status === 503 ? (JSON.parse(r.body) as { ready: boolean; reasons: string[] }) : undefined;
    }, { timeoutMs: 15_000, message: 'unready' });
    expect(unready.ready).toBe(false);
    expect(unready.reasons.join(' ')).toMatch(/ZooKeeper session is (suspended|lost|expired|closed|connecting)|worker is rejoining/);
    expect((await get(w, '/healthz')).status).toBe(200); // alive all the same
    await server.start();
    await waitFor(async () => (await get(w, '/readyz')).status === 200, { timeoutMs: 30_000, message: 'ready again' });
  });
});
