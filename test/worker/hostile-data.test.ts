import { afterEach, describe, expect, it } from 'vitest';
import { GarbageFleet } from '../support/garbage-fleet.js';
import { waitFor } from '../support/wait-for.js';
import { encodeControl } from '../../src/model/job-control.js';
import { readAssignmentOf } from '../../src/api/read-assignments.js';
import { assignmentGroupOf } from '../../src/model/assignment-group.js';
import { assignmentPath } from '../support/assignments.js';
import { LEDGER_PARTS, ledgerPartOf } from '../../src/model/member-ledger.js';

const GARBAGE = Buffer.from('{"shards":1000000000,"items":"all","owners":{"$gt":""}, "v":2, "s":"later"');

describe('hostile data in ZooKeeper (live fleet)', () => {
  let fleet: GarbageFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it('garbage in every node kind: each is reported and left alone, every other item keeps firing, nothing runs twice, nothing crashes', async () => {
    const job = GarbageFleet.job;
    fleet = new GarbageFleet('garbage', [
      job('healthy'), job('bad-definition'), job('bad-assignment'), job('bad-control'), job('bad-history'),
      job('bad-ledger'), job('bad-trigger'), job('bad-stages', { jobParameter: 'stages=a,sleepMs=10' }),
    ]);
    await fleet.start(['w1', 'w2']);
    const zk = await fleet.zk();
    const p = fleet.paths;
    await fleet.keepFiring([['healthy', 0], ['bad-stages', 0]], 0); // running, stage records written

    const garbageAt = Date.now();
    await zk.setData(p.job('bad-definition'), GARBAGE);
    // (Garbage in an assignment node is garbage for every job of its group: bad-ledger's too.)
    expect(assignmentGroupOf('bad-ledger')).toBe(assignmentGroupOf('bad-assignment'));
    await zk.setData(assignmentPath(p, 'bad-assignment'), GARBAGE);
    await zk.mkdirp(p.control('bad-control'));
    await zk.setData(p.control('bad-control'), GARBAGE);
    await zk.mkdirp(p.history('bad-history', 0));
    await zk.setData(p.history('bad-history', 0), GARBAGE);
    await zk.mkdirp(p.stages('bad-stages', 0));
    await zk.setData(p.stages('bad-stages', 0), GARBAGE);
    await zk.create(`${p.triggers('bad-trigger')}/t-`, GARBAGE, 'persistentSequential');
    await zk.create(`${p.workers}/m-0badf00d-`, GARBAGE, 'ephemeralSequential');
    // Garbage in the workers' own ledger part of a job (run protocol v2: what says a run is held):
    // each worker's next write of it is refused, and it writes the part anew from what it knows.
    const ledgerPart = ledgerPartOf('bad-ledger', LEDGER_PARTS);
    for (const member of await zk.getChildren(p.ledgers)) await zk.setData(p.ledgerPart(member, ledgerPart), GARBAGE);

    // Every other item keeps firing, for at least a second of fires after the garbage took effect.
    const since = Date.now() + 500;
    await fleet.keepFiring([
      ['healthy', 0], ['healthy', 1], ['bad-history', 1], ['bad-assignment', 0], ['bad-assignment', 1], ['bad-ledger', 0], ['bad-ledger', 1], ['bad-trigger', 0], ['bad-trigger', 1], ['bad-stages', 1], ['bad-control', 0], ['bad-control', 1],
    ], since + 1000);

    // Left alone: the job whose definition cannot be read.
    expect(fleet.startsAfter('bad-definition', 0, since)).toEqual([]);
    expect(fleet.startsAfter('bad-definition', 1, since)).toEqual([]);
    // The trigger that cannot be read triggered nothing.
    expect(fleet.started.filter((s) => s.reason === 'trigger')).toEqual([]);
    // The stage record that cannot be read: no stage ran again on it (those runs fail instead).
    expect(fleet.records().filter((r) => r.job === 'bad-stages' && r.item === 0 && r.event === 'stage' && Date.parse(r.fire) > since)).toEqual([]);

    // Reported once per node, at error, naming the path and what is wrong.
    const reports = (path: string) => fleet!.logs.filter((l) => l.level === 50 && l.path === path);
    await waitFor(() => reports(p.job('bad-definition')).length > 0, { message: 'definition reported' });
    const definition = reports(p.job('bad-definition'));
    expect(new Set(definition.map((l) => l.worker)).size).toBe(definition.length); // once per worker
    expect((definition[0]!.err as { message: string }).message).toContain(`malformed data at ${p.job('bad-definition')}: `);
    // The assignment node: the leader saw a write not its own, read it, reported it and wrote it
    // anew (its jobs fire again, above); a worker that read the garbage first reports it too.
    const assignment = reports(assignmentPath(p, 'bad-assignment'));
    expect(assignment.map((l) => l.msg)).toContain('malformed assignment node in ZooKeeper; planning its jobs anew');
    expect((assignment[0]!.err as { message: string }).message).toContain(`malformed data at ${assignmentPath(p, 'bad-assignment')}: `);
    expect(await readAssignmentOf(zk, p, 'bad-assignment')).toMatchObject({ shards: 2 });
    // The garbage ledger parts: reported by their members, written anew.
    await waitFor(() => fleet!.logs.some((l) => l.level === 50 && String(l.path).startsWith(`${p.ledgers}/`) && String(l.path).endsWith(`/${ledgerPart}`)), { message: 'garbage ledger part reported' });
    const trigger = fleet.logs.filter((l) => l.level === 50 && String(l.path).startsWith(`${p.triggers('bad-trigger')}/t-`));
    expect(trigger.length).toBeGreaterThan(0);
    expect(trigger.length).toBeLessThanOrEqual(2);

    // Nothing ran twice, nothing crashed.
    expect(fleet.duplicates()).toEqual([]);
    expect(fleet.workers.map((w) => w.state)).toEqual(['running', 'running']);
    expect(garbageAt).toBeLessThan(since);
  });

  it('a job control that cannot be read changes nothing: disabled items stay disabled through later assignments', async () => {
    fleet = new GarbageFleet('garbage-control', [GarbageFleet.job('ctl')]);
    await fleet.start(['w1']);
    const zk = await fleet.zk();
    const p = fleet.paths;
    const assignment = async () => readAssignmentOf(zk, p, 'ctl');
    await zk.mkdirp(p.control('ctl'));
    await zk.setData(p.control('ctl'), encodeControl({ disabled: false, disabledItems: [1], pins: {} }));
    await waitFor(async () => (await assignment())?.disabled?.includes(1), { message: 'item 1 disabled' });

    await zk.setData(p.control('ctl'), GARBAGE);
    await waitFor(() => fleet!.logs.some((l) => l.level === 50 && l.path === p.control('ctl')), { message: 'the leader reports the control' });
    const before = (await assignment())!.generation;
    await fleet.start(['w2']); // a new member: the leader writes a new assignment
    const after = await waitFor(async () => {
      const a = await assignment();
      return a && a.generation > before ? a : undefined;
    }, { message: 'a new assignment' });
    expect(after.disabled).toEqual([1]);
    const since = Date.now() + 500;
    await fleet.keepFiring([['ctl', 0]], since + 1000);
    expect(fleet.startsAfter('ctl', 1, since)).toEqual([]);
  });
});
