import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobAdmin, type ApplyResult, type RemoveResult } from '../../src/api/job-admin.js';
import { FleetReader } from '../../src/api/fleet-reader.js';
import type { DoctorCheck } from '../../src/api/fleet-doctor.js';
import type { FleetEvent } from '../../src/api/fleet-watch.js';
import { decodeJob } from '../../src/model/job-record.js';
import { waitFor } from '../support/wait-for.js';
import { assignmentIn, assignmentPath } from '../support/assignments.js';
import { RECORD_HANDLER } from '../support/worker-process.js';
import { def, json, outputSoFar, TestFleet, zkctl } from '../api/fleet-fixture.js';

// Far enough never to fire in a test, near enough for a timer (Node timers overflow past 24.8 days).
const DAILY = '0 0 0 * * *';

describe('zkctl (apply, remove, doctor, watch)', () => {
  let fleet: TestFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  function file(f: TestFleet, name: string, text: string): string {
    const path = join(f.dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('apply: --dry-run and an invalid file write nothing; apply creates, shows the diff of an update, and is idempotent', async () => {
    const f = (fleet = new TestFleet('zkctl-apply'));
    const zk = await f.zk();
    const ns = { namespace: f.namespace };
    const jobs = file(f, 'jobs.yaml', `
jobs:
  - name: sync-orders
    cron: "*/5 * * * * *"
    shards: 4
    itemParameters: { 0: beijing, 1: shanghai }
    handler: ${RECORD_HANDLER}
  - name: cleanup
    cron: "0 0 3 * * *"
    shards: 1
    command: ["/bin/true"]
`);
    const dry = await zkctl(['apply', '-f', jobs, '--dry-run'], ns);
    expect(dry, dry.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toMatch(/^created\s+sync-orders$/m);
    expect(dry.stdout).toContain('dry run: 2 created, 0 updated, 0 unchanged; nothing written');
    expect(await zk.exists(f.paths.root)).toBeNull();

    const bad = file(f, 'bad.yaml', `
jobs:
  - name: good
    cron: "* * * * * *"
    shards: 2
    handler: ./x.js
  - name: broken
    cron: "61 * * * * *"
    shards: 0
    handler: ./y.js
    colour: blue
`);
    const invalid = await zkctl(['apply', '-f', bad], ns);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(bad);
    expect(invalid.stderr).toMatch(/job "broken".*cron.*61 \* \* \* \* \*/);
    expect(invalid.stderr).toMatch(/job "broken".*shards/);
    expect(invalid.stderr).toMatch(/colour/);
    expect(invalid.stdout).toBe('');
    const missing = await zkctl(['apply', '-f', join(f.dir, 'nope.yaml')], ns);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
    const noFile = await zkctl(['apply'], ns);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--file/);
    expect(await zk.exists(f.paths.root)).toBeNull();

    const created = await zkctl(['apply', '-f', jobs, '--json'], ns);
    expect(created.code).toBe(0);
    expect(json<ApplyResult>(created)).toEqual({
      dryRun: false, written: true,
      jobs: [
        { name: 'sync-orders', action: 'created', changed: [], changes: {}, baseVersion: null },
        { name: 'cleanup', action: 'created', changed: [], changes: {}, baseVersion: null },
      ],
    });
    expect(decodeJob((await zk.getData(f.paths.job('sync-orders'))).data)).toMatchObject({ shards: 4, itemParameters: { 0: 'beijing', 1: 'shanghai' }, strategy: 'sticky' });
    expect((await zk.getChildren(f.paths.items('sync-orders'))).length).toBe(4);

    const changed = file(f, 'changed.yaml', `
- name: sync-orders
  cron: "*/10 * * * * *"
  shards: 6
  itemParameters: { 0: beijing, 1: shanghai }
  handler: ${RECORD_HANDLER}
- name: cleanup
  cron: "0 0 3 * * *"
  shards: 1
  command: ["/bin/true"]
`);
    const updated = await zkctl(['apply', '-f', changed], ns);
    expect(updated, updated.stderr).toMatchObject({ code: 0 });
    expect(updated.stdout).toMatch(/^updated\s+sync-orders\s+cron, shards$/m);
    expect(updated.stdout).toMatch(/^\s+cron\s+"\*\/5 \* \* \* \* \*" → "\*\/10 \* \* \* \* \*"$/m);
    expect(updated.stdout).toMatch(/^\s+shards\s+4 → 6$/m);
    expect(updated.stdout).toMatch(/^unchanged\s+cleanup$/m);
    expect(updated.stdout).toContain('applied: 0 created, 1 updated, 1 unchanged');
    expect((await zk.getChildren(f.paths.items('sync-orders'))).length).toBe(6);
    const again = await zkctl(['apply', '-f', changed], ns);
    expect(again.stdout).toContain('nothing to apply: 0 created, 0 updated, 2 unchanged');
    expect((await zk.getData(f.paths.job('sync-orders'))).stat.version).toBe(1);
  });

  it('concurrent edits: an apply based on a version someone changed meanwhile is refused; racing processes never mix', async () => {
    const f = (fleet = new TestFleet('zkctl-race'));
    const zk = await f.zk();
    const ns = { namespace: f.namespace };
    const admin = new JobAdmin(zk, f.paths);
    await admin.apply([def('shared', { cron: DAILY })]);
    await admin.apply([def('shared', { cron: DAILY, shards: 3 })]); // version 1

    // Operator A (a console) reviewed a change; operator B applies with zkctl before A confirms.
    const reviewed = await admin.plan([def('shared', { cron: DAILY, shards: 5 })]);
    const b = await zkctl(['apply', '-f', file(f, 'b.yaml', `- { name: shared, cron: "${DAILY}", shards: 2, handler: ${RECORD_HANDLER} }\n`)], ns);
    expect(b.code).toBe(0);
    await expect(admin.commit(reviewed)).rejects.toMatchObject({ code: 'REQUEST_CONFLICT' });
    expect(decodeJob((await zk.getData(f.paths.job('shared'))).data)!.shards).toBe(2); // B's edit stands

    // Two zkctl applies at once: each either wins or is refused with a conflict (exit 1); the
    // result is exactly one of the two files, never a mix.
    const one = file(f, 'one.yaml', `- { name: shared, cron: "0 0 0 1 2 *", shards: 7, handler: ${RECORD_HANDLER} }\n- { name: extra-one, cron: "${DAILY}", shards: 1, handler: ${RECORD_HANDLER} }\n`);
    const two = file(f, 'two.yaml', `- { name: shared, cron: "0 0 0 1 3 *", shards: 8, handler: ${RECORD_HANDLER} }\n- { name: extra-two, cron: "${DAILY}", shards: 1, handler: ${RECORD_HANDLER} }\n`);
    const results = await Promise.all([zkctl(['apply', '-f', one], ns), zkctl(['apply', '-f', two], ns)]);
    for (const r of results) {
      expect([0, 1]).toContain(r.code);
      if (r.code === 1) expect(r.stderr).toMatch(/^error: apply: .* (changed|created) by someone else .*nothing was written/);
    }
    expect(results.some((r) => r.code === 0)).toBe(true);
    const stored = decodeJob((await zk.getData(f.paths.job('shared'))).data)!;
    const last = stored.shards === 7 ? 'one' : 'two';
    expect(stored.cron).toBe(last === 'one' ? '0 0 0 1 2 *' : '0 0 0 1 3 *');
    if (results[last === 'one' ? 1 : 0]!.code === 1) {
      expect(await zk.exists(f.paths.job(last === 'one' ? 'extra-two' : 'extra-one'))).toBeNull();
    }
  });

  it('remove: refused while items run (exit 2), --force removes the whole job, unknown job exits 3', async () => {
    const f = (fleet = new TestFleet('zkctl-remove'));
    const long = def('long', { shards: 2, jobParameter: 'sleepMs=20000' });
    await f.start('r1', [long, def('other', { cron: DAILY, shards: 1 })]);
    await f.owned('long', 2);
    const zk = await f.zk();
    const reader = new FleetReader(zk, f.paths);
    await waitFor(async () => (await reader.job('long')).items.every((i) => i.running), { timeoutMs: 10_000, message: 'both items running' });
    const ns = { namespace: f.namespace };

    const refused = await zkctl(['remove', 'long'], ns);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe('error: remove: job long has 2 running items (0-1 on r1); wait for them to finish or use --force');
    expect(await zk.exists(f.paths.job('long'))).not.toBeNull();

    const dry = await zkctl(['remove', 'long', '--force', '--dry-run'], ns);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^dry run: would remove job long: \d+ znodes, items 0-1 running; nothing written$/m);
    expect(await zk.exists(f.paths.item('long', 0))).not.toBeNull();

    const forced = await zkctl(['remove', 'long', '--force', '--json'], ns);
    expect(forced.code).toBe(0);
    const r = json<RemoveResult>(forced);
    expect(r).toMatchObject({ job: 'long', dryRun: false, forced: true, running: [{ item: 0, worker: 'r1' }, { item: 1, worker: 'r1' }] });
    expect(r.removed).toEqual(expect.arrayContaining([f.paths.job('long'), f.paths.item('long', 1)]));
    expect(await zk.exists(f.paths.job('long'))).toBeNull();
    // The leader drops the job from its assignment node.
    await waitFor(async () => assignmentIn((await zk.getDataIfExists(assignmentPath(f.paths, 'long')))?.data, 'long') === undefined, { message: 'the removed job dropped from its assignment node' });
    expect(await zk.exists(f.paths.job('other'))).not.toBeNull(); // only that job

    const gone = await zkctl(['remove', 'long'], ns);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/no job named "long"/);
    const plain = await zkctl(['remove', 'other'], ns);
    expect(plain.stdout).toMatch(/^removed job other: \d+ znodes$/m);
  });

  it('doctor fails (exit 1) with a FAIL line per failed check when no worker serves the jobs', async () => {
    const f = (fleet = new TestFleet('zkctl-doctor'));
    await new JobAdmin(await f.zk(), f.paths).apply([def('orphan', { cron: DAILY, shards: 3 })]);
    const ns = { namespace: f.namespace };
    const [human, asJson, noNamespace] = await Promise.all([
      zkctl(['doctor'], ns), zkctl(['doctor', '--json'], ns), zkctl(['doctor'], { namespace: `${f.namespace}-none` }),
    ]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^PASS\s+zookeeper\s/m);
    expect(human.stdout).toMatch(/^PASS\s+namespace\s/m);
    expect(human.stdout).toMatch(/^FAIL\s+leader\s+no live worker/m);
    expect(human.stdout).toMatch(/^FAIL\s+owners\s+orphan items 0-2 have no owner/m);
    expect(human.stdout).toMatch(/^PASS\s+definitions\s/m);
    expect(human.stdout).toMatch(/^FAIL\s+acl\s+namespace open to anyone/m); // the test fleet has no credentials
    expect(human.stdout).toContain('3 of 12 checks failed');
    expect(human.stderr).toMatch(/^error: doctor: 3 of 12 checks failed: acl, leader, owners$/m);
    expect(asJson.code).toBe(1);
    expect(json<DoctorCheck[]>(asJson).filter((c) => !c.ok).map((c) => c.check)).toEqual(['acl', 'leader', 'owners']);
    expect(noNamespace.code).toBe(1);
    expect(noNamespace.stdout).toMatch(/^FAIL\s+namespace\s+.*does not exist/m);
  });

  it('watch: --once prints the state; a running watch prints a line per change and stops on SIGINT', async () => {
    const f = (fleet = new TestFleet('zkctl-watch'));
    const job = def('tick', { cron: DAILY, shards: 2 });
    await f.start('w1', [job]);
    await f.owned('tick', 2);
    const ns = { namespace: f.namespace };

    const [once, onceJson] = await Promise.all([zkctl(['watch', '--once'], ns), zkctl(['watch', '--once', '--json'], ns)]);
    expect(once.code).toBe(0);
    const lines = once.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z worker w1 active \(m-/);
    expect(once.stdout).toMatch(/Z leader w1 \(m-/);
    expect(once.stdout).toMatch(/Z job tick: cron "0 0 0 \* \* \*" UTC, 2 items, sticky$/m);
    expect(once.stdout).toMatch(/Z assignment tick generation \d+: w1: 0-1$/m);
    const events = onceJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as FleetEvent);
    expect(events.map((e) => e.kind)).toEqual(['worker', 'leader', 'job', 'assignment']);
    expect(events.every((e) => e.initial === true && typeof e.time === 'string')).toBe(true);

    const live = zkctl(['watch', '--interval', '200', '--duration', '60'], { ...ns, timeoutMs: 60_000 });
    await waitFor(() => outputSoFar(live).includes('assignment tick'), { message: 'initial state printed' });
    await f.start('w2', [job]);
    await waitFor(() => /worker w2 joined/.test(outputSoFar(live)) && /assignment tick generation \d+: w1: \d; w2: \d/.test(outputSoFar(live)), { timeoutMs: 15_000, message: 'join and new assignment reported' });
    live.child.kill('SIGINT');
    const ended = await live;
    expect(ended).toMatchObject({ code: 0, signal: null, stderr: '' });

    const timed = await zkctl(['watch', '--duration', '0.5'], ns);
    expect(timed.code).toBe(0);
    expect(timed.stdout).toMatch(/worker w2 active/);
  });
});
