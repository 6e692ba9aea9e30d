import { afterEach, describe, expect, it } from 'vitest';
import { Fleet, fleetConfig, RECORD_HANDLER } from '../support/worker-process.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';

describe('worker fleet (processes): SIGTERM drain', () => {
  let ctx: ZkTestContext;
  let fleet: Fleet;
  afterEach(async () => {
    await fleet?.close();
    await ctx?.close();
  });

  it('SIGTERM: the worker finishes its runs, leaves and exits 0; with a 1-second cron no fire of its items is missed', async () => {
    ctx = new ZkTestContext('fleet-drain');
    const shards = 6;
    fleet = new Fleet(fleetConfig(zkConnect(), ctx.namespace, [{ name: 'tick', cron: '* * * * * *', shards, handler: RECORD_HANDLER, jobParameter: 'sleepMs=300' }]));
    for (const id of ['d1', 'd2', 'd3']) fleet.start(id);
    // Wait until every item runs, on all three workers.
    await fleet.waitForRecords((r) => new Set(r.map((x) => x.worker)).size === 3 && new Set(r.map((x) => x.item)).size === shards, 'runs on 3 workers', 30_000);
    // Steady state: every item has run at least twice.
    const everyItemTwice = (r: ReturnType<Fleet['records']>) => Array.from({ length: shards }, (_, i) => r.filter((x) => x.item === i && x.event === 'start').length >= 2).every(Boolean);
    await fleet.waitForRecords(everyItemTwice, 'every item ran twice', 20_000);
    const startedAt = Date.now();
    const victim = fleet.workers[1]!;
    await fleet.waitForRecords((r) => r.some((x) => x.worker === victim.id && x.event === 'start' && x.at > startedAt), 'victim runs');
    victim.kill('SIGTERM');
    const exit = await victim.waitExit(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    const killedAt = Date.now();
    await fleet.waitForRecords((r) => r.some((x) => x.event === 'start' && x.at > killedAt + 3000), '3 s more of runs', 20_000);

    const records = fleet.records();
    const victimRuns = records.filter((x) => x.worker === victim.id);
    // Every run the victim started, it finished (drained, not aborted).
    for (const s of victimRuns.filter((x) => x.event === 'start')) {
      expect(victimRuns.some((e) => e.event === 'end' && e.item === s.item && e.fire === s.fire)).toBe(true);
    }
    // From the first fire every item ran (well before the SIGTERM) to one well after: every
    // second, every item ran, once.
    const firstFire = (item: number) => Math.min(...records.filter((x) => x.item === item && x.event === 'start').map((x) => Date.parse(x.fire)));
    const from = Math.max(...Array.from({ length: shards }, (_, i) => firstFire(i)));
    expect(from).toBeLessThan(startedAt - 1000);
    const to = Math.floor((killedAt + 2500) / 1000) * 1000;
    const starts = records.filter((x) => x.event === 'start' && x.attempt === 1);
    for (let item = 0; item < shards; item++) {
      for (let t = from; t <= to; t += 1000) {
        const runs = starts.filter((x) => x.item === item && Date.parse(x.fire) === t);
        expect(runs.length, `item ${item} fire ${new Date(t).toISOString()}`).toBe(1);
      }
    }
  });
});
