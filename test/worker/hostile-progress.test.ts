import { afterEach, describe, expect, it } from 'vitest';
import { GarbageFleet } from '../support/garbage-fleet.js';

/*
 * Kept apart from hostile-data.test.ts on purpose: this case depends on the run ledger
 * (executor/run-ledger.ts, scheduler/), which must read progress records with `readProgress` and
 * refuse to begin an item whose record is malformed. Until it does, this test fails.
 */
describe('hostile data in ZooKeeper (live fleet): item progress', () => {
  let fleet: GarbageFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  // Since run protocol v2's step 4c the owner's steady begins write (and read) only its ledger:
  // an item whose record turns unreadable under a running owner goes on from what the owner
  // knows (its claims and runs, in its own ledger); the record is never overwritten, and a worker
  // that reads it (the next write it must make, a takeover) leaves the item alone, reporting it.
  it('an item whose progress record turns unreadable is never written over; nothing runs twice; its sibling keeps firing', async () => {
    fleet = new GarbageFleet('garbage-progress', [GarbageFleet.job('bad-progress'), GarbageFleet.job('healthy')]);
    await fleet.start(['w1', 'w2']);
    const zk = await fleet.zk();
    const p = fleet.paths;
    await fleet.keepFiring([['bad-progress', 0]], 0);

    await zk.setData(p.item('bad-progress', 0), Buffer.from('{"v":2,"s":"not a time","f":{"t":-1}}'));
    const since = Date.now() + 500;
    await fleet.keepFiring([['bad-progress', 1], ['healthy', 0], ['healthy', 1]], since + 1000);

    // The record is left as it was (not overwritten by a begin that could not read it).
    expect((await zk.getData(p.item('bad-progress', 0))).data.toString()).toBe('{"v":2,"s":"not a time","f":{"t":-1}}');
    expect(fleet.duplicates()).toEqual([]);
    expect(fleet.workers.map((w) => w.state)).toEqual(['running', 'running']);
  });
});
