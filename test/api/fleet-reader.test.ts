import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FleetReader } from '../../src/api/fleet-reader.js';
import { runStaleness, type JobSummary } from '../../src/api/fleet-views.js';
import type { FleetSnapshot } from '../../src/api/fleet-snapshot.js';
import { encodeJob } from '../../src/model/job-record.js';
import { assignmentPath, encodeAssignments } from '../support/assignments.js';
import { encodeControl } from '../../src/model/job-control.js';
import { encodeLedgerPart, LEDGER_PARTS, ledgerPartOf, type LedgerPart } from '../../src/model/member-ledger.js';
import { encodeMemberInfo } from '../../src/membership/member-info.js';
import { runDoctor } from '../../src/api/fleet-doctor.js';
import { waitFor } from '../support/wait-for.js';
import { HISTORY_WRITE_INTERVAL_MS } from '../../src/executor/item-history-writer.js';
import { def, TestFleet } from './fleet-fixture.js';

// Far enough never to fire in a test, near enough for a timer (Node timers overflow past 24.8 days).
const DAILY = '0 0 0 * * *';

describe('FleetReader', () => {
  let fleet: TestFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('status, workers, jobs and job describe live workers, their items and runs', async () => {
    fleet = new TestFleet('reader-live');
    const orders = def('orders', { itemParameters: { 0: 'beijing', 1: 'shanghai' }, jobParameter: 'sleepMs=400' });
    const nightly = def('nightly', { cron: DAILY, shards: 2 });
    await fleet.start('a', [orders, nightly], { labels: { zone: 'x' } });
    await fleet.start('b', [orders], { capacity: 2 });
    await fleet.owned('orders', 4);
    await fleet.owned('nightly', 2);
    const reader = new FleetReader(await fleet.zk(), fleet.paths);

    const workers = await reader.workers();
    expect(workers.map((w) => [w.id, w.leader, w.state])).toEqual([['a', true, 'active'], ['b', false, 'active']]);
    expect(workers[0]).toMatchObject({ pid: process.pid, labels: { zone: 'x' }, capacity: 1, jobs: ['nightly', 'orders'] });
    expect(workers[0]!.items.nightly).toEqual([0, 1]);
    expect(workers[1]!.items.nightly).toBeUndefined(); // b does not declare it
    expect([...workers[0]!.items.orders!, ...workers[1]!.items.orders!].sort()).toEqual([0, 1, 2, 3]);
    expect(workers[1]!.capacity).toBe(2);
    expect(typeof workers[0]!.host).toBe('string');
    expect(workers[0]!.uptimeMs).toBeGreaterThanOrEqual(0);
    // Runs show up as running items of their worker (sleepMs=400 on a 1-second cron).
    await waitFor(async () => (await reader.workers()).some((w) => (w.running.orders?.length ?? 0) > 0), { message: 'a running item' });
    // A running item shows its run's fencing token: the one its handler got (ctx.fencingToken).
    const run = await waitFor(async () => (await reader.job('orders')).items.find((i) => i.running && i.fencingToken !== null), { message: 'a running item with its fencing token' });
    const startOf = () => readFileSync(process.env.RECORD_FILE!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; job: string; item: number; fire: string; token: string })
      .find((r) => r.event === 'start' && r.job === 'orders' && r.item === run.item && r.fire === run.runningFire);
    await waitFor(() => startOf() !== undefined, { message: 'the run recorded by its handler' });
    expect(startOf()!.token).toBe(run.fencingToken);
    expect(run.fencingToken).toMatch(/^\d+$/);
    expect((await reader.workers('b')).map((w) => w.id)).toEqual(['b']);
    await expect(reader.workers('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const jobs = await reader.jobs();
    expect(jobs.map((j) => j.name)).toEqual(['nightly', 'orders']);
    const o = jobs.find((j) => j.name === 'orders')!;
    expect(o).toMatchObject<Partial<JobSummary>>({ cron: '* * * * * *', shards: 4, owned: 4, unowned: [], ownerGone: [], state: 'enabled', workers: ['a', 'b'] });
    expect(Date.parse(o.nextFire!)).toBeGreaterThan(Date.now() - 2000);
    expect(jobs.find((j) => j.name === 'nightly')!.nextFire).toMatch(/T00:00:00.000Z$/);

    // A success's outcome reaches the view with the item's history: within its interval, first at a random point of it.
    const job = await waitFor(async () => {
      const j = await reader.job('orders');
      return j.items.every((i) => i.lastOutcome === 'success') ? j : undefined;
    }, { timeoutMs: HISTORY_WRITE_INTERVAL_MS + 15_000, message: 'every item ran once, in its history' });
    expect(job).toMatchObject({ name: 'orders', cron: '* * * * * *', shards: 4, state: 'enabled', version: 0 });
    // Every item has a last outcome, counted per outcome in the jobs list.
    const outcomes = (await reader.jobs()).find((j) => j.name === 'orders')!.lastOutcomes;
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(4);
    expect(job.items.map((i) => i.item)).toEqual([0, 1, 2, 3]);
    expect(job.items.map((i) => i.parameter)).toEqual(['beijing', 'shanghai', null, null]);
    for (const i of job.items) {
      expect(['a', 'b']).toContain(i.owner);
      expect(i.ownerLive).toBe(true);
      expect(typeof i.running).toBe('boolean');
      expect(i.lastFire).toMatch(/^\d{4}-.*Z$/);
      // (A fire begun ahead of its instant is the last one taken on, and the next one, until its instant.)
      expect(Date.parse(i.nextFire!)).toBeGreaterThanOrEqual(Date.parse(i.lastFire!));
    }
    await expect(reader.job('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(reader.job('Bad Name!')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });

    const status = await reader.status();
    expect(status).toMatchObject({ namespace: fleet.namespace, leader: { id: 'a' }, workers: { total: 2, active: 2, draining: 0 }, unowned: [], warnings: [] });
    expect(Math.abs(status.clock!.skewMs)).toBeLessThan(1000);
    expect(status.jobs).toHaveLength(2);
  });

  it('reports drains, disabled items, owners gone, stale runs and undecodable definitions', async () => {
    fleet = new TestFleet('reader-warn');
    const zk = await fleet.zk();
    const p = fleet.paths;
    await zk.mkdirp(p.workers);
    const member = (await zk.create(`${p.workers}/m-0badcafe-`, encodeMemberInfo({
      id: 'x1', host: 'h', pid: 7, jobs: ['j'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 'test',
    }), 'ephemeralSequential')).split('/').pop()!;
    const dead = 'm-deadbeef-0000000099';
    await zk.mkdirp(p.drain('x1'));
    await zk.mkdirp(p.jobs);
    await zk.mkdirp(p.ledger(dead));
    const tx = zk.transaction().create(p.job('j'), encodeJob(def('j', { shards: 3 }))).create(p.items('j'));
    for (let i = 0; i < 3; i++) tx.create(p.item('j', i));
    tx.create(p.assignments).create(assignmentPath(p, 'j'), encodeAssignments({ job: 'j', shards: 3, generation: 4, leader: member, owners: [member, dead, null], workers: { [member]: 'x1', [dead]: 'gone1' }, updatedAt: new Date().toISOString() }));
    tx.create(p.controls).create(p.control('j'), encodeControl({ disabled: false, disabledItems: [2], pins: {} }));
    // The dead member's ledger has item 1 in flight (cut short: its next owner runs it again).
    const cut: LedgerPart = new Map([['j', { b: new Set<number>(), f: new Map([[1, { fireMs: Date.now(), attempt: 1 }]]) }]]);
    tx.create(p.ledgerPart(dead, ledgerPartOf('j', LEDGER_PARTS)), encodeLedgerPart(cut));
    tx.create(p.job('broken'), Buffer.from('not json'));
    await zk.commit(tx);
    const reader = new FleetReader(zk, p);

    const [w] = await reader.workers();
    expect(w).toMatchObject({ id: 'x1', member, leader: true, state: 'draining', drainRequested: true, items: { j: [0] }, running: {} });

    const jobs = await reader.jobs();
    expect(jobs.find((j) => j.name === 'j')).toMatchObject({ state: 'partial', disabledItems: [2], unowned: [2], ownerGone: [1], owned: 1, running: [], generation: 4 });
    expect(jobs.find((j) => j.name === 'broken')).toMatchObject({ state: 'invalid', cron: null, nextFire: null });

    const job = await reader.job('j');
    expect(job.items.map((i) => [i.owner, i.ownerLive, i.running, i.disabled, i.nextFire === null])).toEqual([
      ['x1', true, false, false, false],
      ['gone1', false, false, false, true],
      [null, false, false, true, true],
    ]);
    expect(job.items[1]!.runningOn).toBeNull(); // a gone member's run is not going on
    await expect(reader.job('broken')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });

    const status = await reader.status();
    expect(status.workers).toEqual({ total: 1, active: 0, draining: 1 });
    expect(status.unowned).toEqual([{ job: 'j', items: [2] }]);
    expect(status.warnings.map((x) => x.kind).sort()).toEqual(['bad-definition', 'owner-gone', 'stale-marker']);
    expect(status.warnings.find((x) => x.kind === 'owner-gone')).toMatchObject({ job: 'j', member: dead, worker: 'gone1' });
    expect(status.warnings.find((x) => x.kind === 'stale-marker')).toMatchObject({ job: 'j', item: 1, message: expect.stringMatching(/stale run in flight: its member m-deadbeef-0000000099 is not live/) });

    // The tree: kinds, contents, depth.
    const tree = await reader.tree();
    expect(tree).toMatchObject({ path: p.root, kind: 'namespace' });
    const kinds = (n: typeof tree): string[] => [n.kind, ...(n.children ?? []).flatMap(kinds)];
    expect(new Set(kinds(tree))).toEqual(new Set(['namespace', 'workers', 'member', 'drains', 'drain', 'jobs', 'job', 'assignments', 'assignment', 'controls', 'control', 'items', 'item', 'ledgers', 'ledger', 'ledger-part', 'clock']));
    const j = await reader.tree('/jobs/j', 1);
    expect(j.children!.map((c) => [c.name, c.kind])).toEqual([['items', 'items']]);
    expect(j.children![0]).toMatchObject({ numChildren: 3 });
    expect(j.children![0]!.children).toBeUndefined();
    expect((await reader.tree('/controls/j')).summary).toBe('items 2 disabled');
    expect((await reader.tree(assignmentPath(p, 'j').slice(p.root.length))).summary).toMatch(/^1 job; j generation 4: x1=0 gone1=1 \(none\)=2/);
    expect((await reader.tree(`ledgers/${dead}/${ledgerPartOf('j', LEDGER_PARTS)}`)).summary).toBe('1 job, 1 run in flight');
    await expect(reader.tree('../..')).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(reader.tree('/nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('shows workers whose own code differs from the stored definition, and malformed records with their paths', async () => {
    fleet = new TestFleet('reader-code');
    const zk = await fleet.zk();
    const p = fleet.paths;
    await zk.mkdirp(p.workers);
    const member = (await zk.create(`${p.workers}/m-0badcafe-`, encodeMemberInfo({
      id: 'x1', host: 'h', pid: 7, jobs: ['j'], labels: {}, capacity: 1, state: 'active', startedAt: new Date().toISOString(), version: 'test', codeMismatch: ['j'],
    }), 'ephemeralSequential')).split('/').pop()!;
    // A live member node whose record cannot be read (a later version's, or damaged).
    const unreadable = (await zk.create(`${p.workers}/m-0badf00d-`, Buffer.from('{"id":7}'), 'ephemeralSequential')).split('/').pop()!;
    await zk.mkdirp(p.jobs);
    const stored = def('j', { shards: 2, cron: DAILY, handler: undefined, command: ['./bin/stored.sh'] });
    const tx = zk.transaction().create(p.job('j'), encodeJob(stored)).create(p.items('j'));
    tx.create(p.item('j', 0), Buffer.from('{"v":2,"s":"garbage"}')).create(p.item('j', 1));
    tx.create(p.controls).create(p.control('j'), Buffer.from('{"disabled":"maybe"}'));
    await zk.commit(tx);
    const reader = new FleetReader(zk, p);

    const job = await reader.job('j');
    expect(job.definition.command).toEqual(['./bin/stored.sh']); // what is stored, still shown
    expect(job.codeMismatch).toEqual([{ worker: 'x1', member }]);
    expect(job.problems).toEqual([
      `${p.control('j')}: disabled must be true or false (got "maybe")`,
      `${p.item('j', 0)}: s must be an integer from 0 to 8640000000000000 (got "garbage")`,
    ]);
    const status = await reader.status();
    expect(status.warnings.filter((w) => w.kind === 'code-mismatch' || w.kind === 'malformed-record').map((w) => w.kind)).toEqual(['code-mismatch', 'malformed-record', 'malformed-record']);

    expect((await reader.tree('/controls/j')).summary).toBe('malformed: disabled must be true or false (got "maybe")');

    const checks = await runDoctor(zk, p, { serverVersion: false });
    expect(checks.find((c) => c.check === 'code')).toMatchObject({ ok: false, detail: expect.stringContaining('j: x1') });
    // Its member node announces no run protocol (as a worker from before announcements).
    expect(checks.find((c) => c.check === 'protocol')).toMatchObject({ ok: false, detail: expect.stringContaining(`x1 (${member}: none announced)`) });
    expect(checks.find((c) => c.check === 'protocol')).toMatchObject({ detail: expect.stringContaining(`${unreadable} (its record cannot be read: malformed data at ${p.member(unreadable)}: id must be a string (got 7))`) });
    expect(checks.find((c) => c.check === 'records')).toMatchObject({ ok: false, detail: expect.stringContaining(`${p.item('j', 0)}: s must be`) });
  });

  it('a namespace that does not exist is NOT_FOUND', async () => {
    fleet = new TestFleet('reader-none');
    const reader = new FleetReader(await fleet.zk(), fleet.paths);
    await expect(reader.status()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(reader.workers()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await (await fleet.zk()).exists(fleet.paths.root)).toBeNull();
  });

  it('a run in flight is stale when its member is gone or it began longer ago than the limit', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    const member = { name: 'm-1-0000000001', sequence: 1, info: { id: 'w', host: 'h', pid: 1, jobs: [], labels: {}, capacity: 1, state: 'active' as const, startedAt: '', version: '' } };
    const s: FleetSnapshot = { namespace: 'n', readAt: now, members: [member], drains: [], jobs: [] };
    const item = (memberName: string, ageMs: number) => ({
      item: 0, exists: true, progress: {},
      run: { member: memberName, live: memberName === member.name, worker: 'w', fireTime: new Date(now - ageMs).toISOString(), attempt: 1, startedAt: null, token: '7' },
    });
    expect(runStaleness(item(member.name, 1000), s)).toBeUndefined();
    expect(runStaleness(item('m-2-0000000002', 1000), s)).toMatch(/not live/);
    expect(runStaleness(item(member.name, 25 * 3_600_000), s)).toMatch(/25 h old/);
    expect(runStaleness({ item: 0, exists: true, progress: {}, run: null }, s)).toBeUndefined();
  });
});
