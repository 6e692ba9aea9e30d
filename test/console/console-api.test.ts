import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet, def, json, zkctl } from '../api/fleet-fixture.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import type { ConsoleApp } from '../../src/console/console-app.js';
import { LOGIN_FAILURES_ALLOWED } from '../../src/console/login-throttle.js';
import { ConsoleClient, startConsole, type EventStream } from './console-fixture.js';

/** Shape of a JSON value: its keys, recursively (values' types only). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return v === null ? 'null' : typeof v;
}

const YEARLY = '0 0 0 1 1 *';

describe('console API against a real ZooKeeper and real workers', () => {
  const fleet = new TestFleet('console-api');
  let app: ConsoleApp;
  let url: string;
  const viewer = () => new ConsoleClient(url);
  let operator: ConsoleClient;
  let admin: ConsoleClient;
  let stream: EventStream;
  /** The hello of the operator's stream (opened in beforeAll). */
  const stream2 = () => stream.waitFor('hello');

  beforeAll(async () => {
    await fleet.start('w1', [def('orders', { cron: YEARLY, shards: 4 }), def('billing', { cron: YEARLY, shards: 2 })]);
    await fleet.start('w2', [def('orders', { cron: YEARLY, shards: 4 }), def('billing', { cron: YEARLY, shards: 2 })]);
    await fleet.owned('orders', 4);
    await fleet.owned('billing', 2);
    app = await startConsole(zkConnect(), fleet.namespace);
    url = app.url!;
    operator = new ConsoleClient(url);
    admin = new ConsoleClient(url);
    expect((await operator.login('operator')).status).toBe(200);
    expect((await admin.login('admin')).status).toBe(200);
    stream = await operator.events();
  });

  afterAll(async () => {
    stream?.close();
    await app?.close();
    await fleet.close();
  });

  it('login: one 401 message for an unknown user and a wrong password; the cookie is HttpOnly, SameSite=Strict', async () => {
    const wrong = await viewer().login('operator', 'not-the-password');
    const unknown = await viewer().login('nobody', 'whatever-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toBe(unknown.body.error);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const ok = await viewer().login('viewer');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ user: 'viewer', role: 'viewer' });
    expect(ok.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).not.toMatch(/Secure/i); // plain HTTP on loopback
  });

  it('throttles repeated failures (429), even with the right password then', async () => {
    const c = viewer();
    for (let i = 0; i < LOGIN_FAILURES_ALLOWED; i++) expect((await c.login('throttled-user', 'wrong-password')).status).toBe(401);
    const r = await c.login('throttled-user', 'wrong-password');
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('without a session every read and action is 401', async () => {
    const anon = viewer();
    expect((await anon.get('/api/v1/jobs')).status).toBe(401);
    expect((await anon.request('POST', '/api/v1/jobs/orders/trigger', {})).status).toBe(401);
    expect((await anon.events()).status).toBe(401);
  });

  it('reads have the zkctl --json shapes', async () => {
    const c = viewer();
    await c.login('viewer');
    const [jobs, workers, job, status] = await Promise.all([c.get('/api/v1/jobs'), c.get('/api/v1/workers'), c.get('/api/v1/jobs/orders?history=1'), c.get('/api/v1/status')]);
    const [cjobs, cworkers, cjob, cstatus] = await Promise.all([zkctl(['--json', 'jobs'], { namespace: fleet.namespace }), zkctl(['--json', 'workers'], { namespace: fleet.namespace }), zkctl(['--json', 'job', 'orders'], { namespace: fleet.namespace }), zkctl(['--json', 'status'], { namespace: fleet.namespace })]);
    expect(jobs.status).toBe(200);
    expect(shape(jobs.body)).toEqual(shape(json(cjobs)));
    expect(jobs.body.map((j: { name: string }) => j.name)).toEqual(['billing', 'orders']);
    expect(shape(workers.body)).toEqual(shape(json(cworkers)));
    expect(workers.body.map((w: { id: string }) => w.id).sort()).toEqual(['w1', 'w2']);
    expect(shape(job.body)).toEqual(shape(json(cjob)));
    expect(job.body.items.map((i: { owner: string }) => i.owner).sort()).toEqual((json(cjob) as { items: { owner: string }[] }).items.map((i) => i.owner).sort());
    expect(Object.keys(status.body).sort()).toEqual(Object.keys(json(cstatus) as object).sort());
    expect((await c.get('/api/v1/jobs/nope')).status).toBe(404);
    const bad = await c.get('/api/v1/runs?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('query: limit must be a whole number from 1 to 100000, got "0"');
  });

  it('a viewer may not act (403), and changes nothing', async () => {
    const c = viewer();
    await c.login('viewer');
    const r = await c.request('POST', '/api/v1/jobs/orders/disable', {});
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/needs the operator role/);
    expect((await c.request('PUT', '/api/v1/jobs/orders', { definition: { cron: YEARLY, shards: 4 } })).status).toBe(403);
    expect((await c.get('/api/v1/jobs/orders')).body.state).toBe('enabled');
  });

  it('an action without the CSRF header is refused (403) and changes nothing', async () => {
    const r = await operator.request('POST', '/api/v1/jobs/orders/disable', {}, { csrf: false });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('CSRF_REFUSED');
    expect((await operator.get('/api/v1/jobs/orders')).body.state).toBe('enabled');
  });

  it('an operator may not edit definitions (admin only)', async () => {
    const r = await operator.request('PUT', '/api/v1/jobs/orders', { definition: { cron: YEARLY, shards: 4 } });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatch(/needs the admin role/);
  });

  it('bad requests get a 400 naming the field and the value', async () => {
    const item = await operator.request('POST', '/api/v1/jobs/orders/trigger', { item: 'two' });
    expect(item.status).toBe(400);
    expect(item.body.error).toBe('trigger: item must be a whole number from 0 up, got "two"');
    const extra = await operator.request('POST', '/api/v1/jobs/orders/trigger', { items: [1] });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/unknown field "items"/);
    const range = await operator.request('POST', '/api/v1/jobs/orders/trigger', { item: 9 });
    expect(range.status).toBe(400);
    expect(range.body.error).toMatch(/got 9$/);
  });

  it('trigger: the run starts and ends on the event stream, and the audit trail names the console user', async () => {
    const from = stream.events.length;
    const r = await operator.request('POST', '/api/v1/jobs/orders/trigger', { item: 2 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ job: 'orders', items: [2], started: false });
    await stream.waitFor('run', (d) => d.job === 'orders' && d.item === 2 && d.outcome === undefined, { from });
    const end = await stream.waitFor('run', (d) => d.job === 'orders' && d.item === 2 && d.outcome === 'success', { from });
    expect(end.data.worker).toMatch(/^w[12]$/);
    await waitFor(async () => (await operator.get('/api/v1/runs?job=orders&item=2')).body.length > 0, { timeoutMs: 25_000, message: 'the run in /api/v1/runs (ZooKeeper keeps history at most 10 s behind)' });
    const audit = await operator.get('/api/v1/audit');
    expect(audit.body[0]).toMatchObject({ action: 'trigger', target: 'orders#2', result: 'ok' });
    expect(audit.body[0].actor).toMatch(/^console:operator /);
  });

  it('disable/enable and move/unpin go through the API and show as events', async () => {
    let from = stream.events.length;
    expect((await operator.request('POST', '/api/v1/jobs/billing/disable', { item: 1 })).status).toBe(200);
    await stream.waitFor('job', (d) => d.job === 'billing' && d.change === 'control', { from });
    expect((await operator.request('POST', '/api/v1/jobs/billing/disable', { item: 1 })).status).toBe(400); // already disabled
    expect((await operator.request('POST', '/api/v1/jobs/billing/enable', { item: 1 })).status).toBe(200);
    const job = (await operator.get('/api/v1/jobs/orders')).body;
    const item = job.items.find((i: { owner: string }) => i.owner === 'w1').item;
    from = stream.events.length;
    const moved = await operator.request('POST', '/api/v1/jobs/orders/move', { item, to: 'w2' });
    expect(moved.status).toBe(200);
    await stream.waitFor('assignment', (d) => d.job === 'orders' && d.owners[item] === 'w2', { from });
    expect((await operator.request('POST', '/api/v1/jobs/orders/unpin', { item })).status).toBe(200);
    expect((await operator.request('POST', '/api/v1/jobs/orders/move', { item, to: 'ghost' })).status).toBe(404);
  });

  it('reshard: the dry run shows the diff and writes nothing; then it applies', async () => {
    const dry = await operator.request('POST', '/api/v1/jobs/billing/reshard', { shards: 3, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ job: 'billing', shardsBefore: 2, shardsAfter: 3, applied: false });
    expect(dry.body.after).toHaveLength(3);
    expect((await operator.get('/api/v1/jobs/billing')).body.shards).toBe(2);
    const from = stream.events.length;
    const real = await operator.request('POST', '/api/v1/jobs/billing/reshard', { shards: 3, dryRun: false });
    expect(real.status).toBe(200);
    expect(real.body.applied).toBe(true);
    await stream.waitFor('assignment', (d) => d.job === 'billing' && d.owners.length === 3 && d.owners.every((o: string | null) => o !== null), { from });
  });

  it('definition edit (admin): a malformed one is refused with its message and changes nothing; a stale base version is 409', async () => {
    const before = (await admin.get('/api/v1/jobs/orders')).body;
    const bad = await admin.request('PUT', '/api/v1/jobs/orders', { definition: { cron: 'every minute', shards: 4, handler: './x.js' }, baseVersion: before.version });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/cron/);
    expect(bad.body.error).toMatch(/every minute/);
    const yaml = `name: orders\ncron: "${YEARLY}"\nshards: 4\nhandler: ./x.js\njobParameter: "batch=7"\n`;
    const dry = await admin.request('PUT', '/api/v1/jobs/orders', { definition: yaml, dryRun: true, baseVersion: before.version });
    expect(dry.status).toBe(200);
    expect(dry.body.jobs[0].changes.jobParameter).toEqual({ from: 'sleepMs=10', to: 'batch=7' });
    const stale = await admin.request('PUT', '/api/v1/jobs/orders', { definition: yaml, baseVersion: before.version + 1 });
    expect(stale.status).toBe(409);
    expect((await admin.get('/api/v1/jobs/orders')).body.version).toBe(before.version);
    const from = stream.events.length;
    const ok = await admin.request('PUT', '/api/v1/jobs/orders', { definition: yaml, baseVersion: before.version });
    expect(ok.status).toBe(200);
    expect(ok.body.written).toBe(true);
    await stream.waitFor('job', (d) => d.job === 'orders' && d.change === 'updated', { from });
    expect((await admin.get('/api/v1/audit')).body[0]).toMatchObject({ action: 'apply', target: 'orders', result: 'ok' });
  });

  it('drain: the worker\'s items move, as assignment and member events', async () => {
    const from = stream.events.length;
    const r = await operator.request('POST', '/api/v1/workers/w1/drain', {});
    expect(r.status).toBe(200);
    expect(r.body.worker).toBe('w1');
    await stream.waitFor('member', (d) => d.worker === 'w1' && d.state === 'draining', { from });
    await stream.waitFor('assignment', (d) => d.job === 'orders' && d.owners.every((o: string) => o === 'w2'), { from });
    expect((await operator.request('POST', '/api/v1/workers/w1/undrain', {})).status).toBe(200);
  });

  it('an event stream opens jobs: their items are watched while some stream holds them', async () => {
    const c = viewer();
    await c.login('viewer');
    const s = await c.events();
    try {
      const stream = (await s.waitFor('hello')).data.stream as string;
      expect(stream).toMatch(/^[0-9a-f]{32}$/);
      expect(app.cache!.watchedJobs).toEqual([]);
      const put = await c.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: ['orders'] });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ stream, jobs: ['orders'] });
      expect(app.cache!.watchedJobs).toEqual(['orders']);
      // A second holder of the same job (the operator's stream); then only the viewer's holds it.
      const other = (await stream2()).data.stream as string;
      expect((await operator.request('PUT', `/api/v1/events/${other}/jobs`, { jobs: ['orders', 'billing'] })).status).toBe(200);
      expect(app.cache!.watchedJobs).toEqual(['billing', 'orders']);
      expect((await operator.request('PUT', `/api/v1/events/${other}/jobs`, { jobs: [] })).status).toBe(200);
      expect(app.cache!.watchedJobs).toEqual(['orders']);
      // Another session's stream is not found; bad lists are 400; no CSRF header, 403.
      expect((await operator.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: [] })).status).toBe(404);
      const bad = await c.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: 'orders' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/^open jobs: jobs must be a list of at most 16 job names/);
      expect((await c.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: Array.from({ length: 17 }, (_, i) => `j${i}`) })).status).toBe(400);
      expect((await c.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: ['Bad Name'] })).status).toBe(400);
      expect((await c.request('PUT', `/api/v1/events/${stream}/jobs`, { jobs: [] }, { csrf: false })).status).toBe(403);
      expect(app.cache!.watchedJobs).toEqual(['orders']);
    } finally {
      s.close();
    }
    // The stream's end lets its jobs go.
    await waitFor(() => app.cache!.watchedJobs.length === 0, { timeoutMs: 5000, message: 'no job watched once the stream ended' });
  });

  it('--read-only answers every action with 405', async () => {
    const ro = await startConsole(zkConnect(), fleet.namespace, { readOnly: true });
    try {
      const c = new ConsoleClient(ro.url!);
      expect((await c.login('admin')).body.readOnly).toBe(true);
      expect((await c.get('/api/v1/jobs')).status).toBe(200);
      for (const [m, p] of [['POST', '/api/v1/jobs/orders/trigger'], ['POST', '/api/v1/rebalance'], ['PUT', '/api/v1/jobs/orders'], ['DELETE', '/api/v1/jobs/orders'], ['POST', '/api/v1/workers/w1/drain']] as const) {
        expect((await c.request(m, p, m === 'DELETE' ? undefined : {})).status, `${m} ${p}`).toBe(405);
      }
    } finally {
      await ro.close();
    }
  });
});
