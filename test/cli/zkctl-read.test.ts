import { RUN_PROTOCOL } from '../../src/membership/member-info.js';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHistory } from '../../src/model/progress-record.js';
import { JobAdmin } from '../../src/api/job-admin.js';
import type { FleetStatus, JobSummary, JobView, TreeNode, WorkerView } from '../../src/api/fleet-reader.js';
import type { DoctorCheck } from '../../src/api/fleet-doctor.js';
import { waitFor } from '../support/wait-for.js';
import { def, json, TestFleet, zkctl } from '../api/fleet-fixture.js';

// Far enough never to fire in a test, near enough for a timer (Node timers overflow past 24.8 days).
const DAILY = '0 0 0 * * *';
/** Every line of human output fits 100 columns. */
const fits = (text: string) => text.split('\n').every((l) => [...l].length <= 100);

describe('zkctl (read commands) against live workers', () => {
  let fleet: TestFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('status, workers, jobs, job, tree and doctor: human and --json', async () => {
    fleet = new TestFleet('zkctl-read');
    const orders = def('sync-orders', { itemParameters: { 0: 'beijing', 1: 'shanghai' }, jobParameter: 'sleepMs=300' });
    await fleet.start('w1', [orders, def('reports', { cron: DAILY, shards: 2 })], { labels: { zone: 'a' } });
    await fleet.start('w2', [orders]);
    await fleet.owned('sync-orders', 4);
    await fleet.owned('reports', 2);
    // Let every item of sync-orders run once, so last fire and outcome are set: a success reaches
    // the item's history (it writes no record: run protocol v2, step 4c), at most every 10 s.
    const zk = await fleet.zk();
    await waitFor(async () => {
      const data = await Promise.all([0, 1, 2, 3].map((i) => zk.getDataIfExists(fleet!.paths.history('sync-orders', i))));
      return data.every((d) => decodeHistory(d?.data).some((o) => o.outcome === 'success'));
    }, { timeoutMs: 30_000, message: 'every item ran, in its history' });

    const ns = { namespace: fleet.namespace };
    const [status, statusJson, workers, workersJson, jobs, jobsJson] = await Promise.all([
      zkctl(['status'], ns), zkctl(['status', '--json'], ns), zkctl(['workers'], ns),
      zkctl(['--json', 'workers'], ns), zkctl(['jobs'], ns), zkctl(['jobs', '--json'], ns),
    ]);
    for (const r of [status, statusJson, workers, workersJson, jobs, jobsJson]) expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });

    expect(status.stdout).toMatch(/^leader\s+w1 \(m-/m);
    expect(status.stdout).toMatch(/^workers\s+2 live: 2 active, 0 draining/m);
    expect(status.stdout).toMatch(/^sync-orders\s+enabled\s+4\s+4\s/m);
    expect(status.stdout).toContain('items without an owner: none');
    expect(status.stdout).toContain('warnings: none');
    expect(fits(status.stdout)).toBe(true);
    const s = json<FleetStatus>(statusJson);
    expect(s).toMatchObject({ namespace: fleet.namespace, leader: { id: 'w1' }, workers: { total: 2, active: 2, draining: 0 }, unowned: [], warnings: [] });
    expect(s.jobs.map((j) => j.name)).toEqual(['reports', 'sync-orders']);

    expect(workers.stdout.split('\n')[0]).toMatch(/^ID\s+HOST\s+PID\s+LEADER\s+STATE\s+ITEMS\s+RUNNING\s+LABELS\s+CAP\s+UPTIME$/);
    expect(workers.stdout).toMatch(/^w1\s.*\syes\s+active\s+reports:0-1 sync-orders:\S+\s.*zone=a/m);
    expect(workers.stdout).toMatch(/^w2\s.*\s-\s+active\s+sync-orders:/m);
    const ws = json<WorkerView[]>(workersJson);
    expect(ws.map((w) => Object.keys(w).slice(0, 7))).toEqual([
      ['id', 'member', 'sequence', 'host', 'pid', 'leader', 'state'], ['id', 'member', 'sequence', 'host', 'pid', 'leader', 'state'],
    ]);
    expect(ws.map((w) => [w.id, w.leader, w.state, w.pid])).toEqual([['w1', true, 'active', process.pid], ['w2', false, 'active', process.pid]]);
    expect([...ws[0]!.items['sync-orders']!, ...ws[1]!.items['sync-orders']!].sort()).toEqual([0, 1, 2, 3]);
    expect(ws[0]!.items.reports).toEqual([0, 1]);

    expect(jobs.stdout).toMatch(/^JOB\s+STATE\s+CRON\s+SHARDS\s+OWNED\s+RUNNING\s+WORKERS\s+LAST FIRE\s+NEXT FIRE$/m);
    expect(jobs.stdout).toMatch(/^reports\s+enabled\s+0 0 0 \* \* \*\s+2\s+2\s+0\s+1\s+-\s+in \d+[hms]/m);
    expect(fits(jobs.stdout)).toBe(true);
    expect(json<JobSummary[]>(jobsJson).find((j) => j.name === 'sync-orders')).toMatchObject({ shards: 4, owned: 4, workers: ['w1', 'w2'], state: 'enabled' });

    const [job, jobJson, tree, treeJson, doctor, doctorJson, one] = await Promise.all([
      zkctl(['job', 'sync-orders'], ns), zkctl(['job', 'sync-orders', '--json'], ns), zkctl(['tree'], ns),
      zkctl(['tree', '/jobs/reports', '--depth', '1', '--json'], ns), zkctl(['doctor'], ns), zkctl(['doctor', '--json'], ns),
      zkctl(['workers', 'w2'], ns),
    ]);
    for (const r of [job, jobJson, tree, treeJson, one]) expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    for (const r of [doctor, doctorJson]) expect(r.code, r.stderr).toBe(1); // an open namespace fails the acl check
    expect(one.stdout).toMatch(/^worker\s+w2$/m);
    expect(one.stdout).toMatch(/^items\s+sync-orders: [\d,-]+$/m);
    expect(one.stdout).toMatch(/^state\s+active$/m);

    expect(job.stdout).toMatch(/^job\s+sync-orders\s+\(enabled\)$/m);
    expect(job.stdout).toMatch(/^cron\s+\* \* \* \* \* \*\s+UTC$/m);
    expect(job.stdout).toMatch(/^ITEM\s+PARAMETER\s+OWNER\s+RUNNING\s+LAST FIRE\s+OUTCOME\s+NEXT FIRE$/m);
    expect(job.stdout).toMatch(/^\s+0\s+beijing\s+w[12]\s+\S+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+success\s+\d{4}-/m);
    expect(job.stdout).toMatch(/^\s+3\s+-\s+w[12]\s/m);
    expect(fits(job.stdout)).toBe(true);
    const j = json<JobView>(jobJson);
    expect(j).toMatchObject({ name: 'sync-orders', cron: '* * * * * *', shards: 4 });
    expect(j.items).toHaveLength(4);
    for (const item of j.items) {
      expect(Object.keys(item)).toEqual(expect.arrayContaining(['item', 'owner', 'running', 'lastFire', 'lastOutcome', 'nextFire']));
      expect(item).toMatchObject({ owner: expect.stringMatching(/^w[12]$/), lastOutcome: 'success', running: expect.any(Boolean) });
    }

    expect(tree.stdout.split('\n')[0]).toMatch(new RegExp(`^/${fleet.namespace}\\s+namespace`));
    expect(tree.stdout).toMatch(/├── jobs\s+jobs\s+2 children/);
    expect(tree.stdout).toMatch(/m-[0-9a-f]+-\d{10}\s+member \(e\)\s+w1 active/);
    expect(tree.stdout).toMatch(/├── assignments\s+assignments\s+\d+ children?/);
    expect(tree.stdout).toMatch(/\d+\s+assignment\s+1 job; sync-orders generation \d+: w\d=/);
    expect(fits(tree.stdout)).toBe(true);
    const t = json<TreeNode>(treeJson);
    expect(t).toMatchObject({ path: fleet.paths.job('reports'), kind: 'job' });
    expect(t.children!.map((c) => c.kind)).toEqual(expect.arrayContaining(['items', 'triggers']));
    expect(t.children!.find((c) => c.kind === 'items')).toMatchObject({ numChildren: 2 });
    expect(t.children!.find((c) => c.kind === 'items')!.children).toBeUndefined();

    expect(doctor.stdout).toMatch(/^PASS\s+zookeeper\s+connected to/m);
    expect(doctor.stdout).toMatch(/^PASS\s+leader\s+w1/m);
    expect(doctor.stdout).toMatch(new RegExp(`^PASS\\s+protocol\\s+every live worker speaks run protocol ${RUN_PROTOCOL}$`, 'm'));
    expect(doctor.stdout).toMatch(/^PASS\s+owners\s+6 items owned by live workers/m);
    // The test fleet runs without credentials: the one failing check says so.
    expect(doctor.stdout).toMatch(/^FAIL\s+acl\s+namespace open to anyone/m);
    expect(doctor.stdout.match(/^FAIL/gm)).toHaveLength(1);
    const checks = json<DoctorCheck[]>(doctorJson);
    expect(checks.map((c) => c.check)).toEqual(['zookeeper', 'namespace', 'acl', 'leader', 'protocol', 'definitions', 'code', 'records', 'item-nodes', 'owners', 'running-markers', 'clock-skew']);
    expect(checks.filter((c) => c.check !== 'acl').every((c) => c.ok && typeof c.detail === 'string')).toBe(true);
  });

  it('unknown jobs and workers exit 3; bad arguments exit 2 with a specific message', async () => {
    fleet = new TestFleet('zkctl-bad');
    await new JobAdmin(await fleet.zk(), fleet.paths).apply([def('known', { cron: DAILY })]);
    const ns = { namespace: fleet.namespace };
    const cases: Array<[string[], number, RegExp]> = [
      [['job', 'nope'], 3, /no job named "nope"/],
      [['workers', 'ghost'], 3, /no live worker with id "ghost" \(no worker is live\)/],
      [['tree', '/jobs/nope'], 3, /no znode .*\/jobs\/nope/],
      [['remove', 'nope'], 3, /no job named "nope"/],
      [['job', 'Bad Name'], 2, /invalid job name "Bad Name"/],
      [['job'], 2, /missing required argument 'name'/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['tree', '--depth', '-1'], 2, /--depth must be a whole number/],
      [['tree', '../..'], 2, /leaves the namespace/],
      [['watch', '--duration', 'soon'], 2, /--duration must be a number of seconds/],
      [['doctor', '--max-clock-skew', 'x'], 2, /--max-clock-skew must be a whole number/],
      [['status', '--bogus'], 2, /unknown option '--bogus'/],
      [['--namespace', 'a/b', 'status'], 2, /--namespace: namespace must match/],
      [['--zk', 'bad host', 'status'], 2, /--zk: expected host:port/],
    ];
    const results = await Promise.all(cases.map(([args]) => zkctl(args, ns)));
    results.forEach((r, i) => {
      const [args, code, message] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
    const other = await zkctl(['status'], { namespace: `${fleet.namespace}-other` });
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/namespace \/.*-other does not exist/);
    const help = await zkctl(['--help'], ns);
    expect(help.code).toBe(0);
    for (const cmd of ['status', 'workers', 'jobs', 'job', 'apply', 'remove', 'tree', 'watch', 'doctor']) expect(help.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
  });

  it('ZooKeeper unreachable: exit 3 with one clear line, for reads and for doctor (no hang)', async () => {
    const down = { zk: '127.0.0.1:1', timeoutMs: 15_000 };
    const [status, job, doctor, doctorJson, viaEnv] = await Promise.all([
      zkctl(['status'], down), zkctl(['job', 'x'], down), zkctl(['doctor'], down), zkctl(['doctor', '--json'], down),
      // The environment variable works like --zk.
      zkctl(['status'], { raw: true, env: { ZKSHARD_ZK: '127.0.0.1:1' }, timeoutMs: 15_000 }),
    ]);
    for (const r of [status, job, doctor, doctorJson]) {
      expect(r.signal).toBeNull(); // it ended by itself
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split('\n')).toEqual(['error: cannot reach ZooKeeper at 127.0.0.1:1: no session within 3000 ms (check --zk or ZKSHARD_ZK)']);
    }
    expect(doctor.stdout).toMatch(/^FAIL\s+zookeeper\s+cannot reach ZooKeeper at 127.0.0.1:1/m);
    expect(json<DoctorCheck[]>(doctorJson)).toEqual([{ check: 'zookeeper', ok: false, detail: expect.stringContaining('127.0.0.1:1') }]);
    expect(viaEnv.code).toBe(3);
    expect(viaEnv.stderr).toContain('127.0.0.1:1');
  });
});
