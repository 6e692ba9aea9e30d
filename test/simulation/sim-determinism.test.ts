import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../src/zk/session-state.js';
import type { SimZkClient } from '../../src/simulation/sim-zk-client.js';
import type { SeededRandom } from '../../src/simulation/seeded-random.js';
import { SimWorld } from './sim-world.js';

/**
 * A scripted workload: three processes doing random reads, writes, multis and watches on shared
 * nodes, rejoining with a new session when theirs ends, while a fault schedule drawn from the
 * same seed resets connections, loses requests, partitions and freezes them. Returns the trace.
 */
async function workload(seed: number, durationMs = 20_000): Promise<{ trace: string; ephemeralsOfDeadSessions: string[] }> {
  const w = new SimWorld(seed);
  const faults = w.random.fork();
  let stopped = false;
  const clients: SimZkClient[] = [];
  const admin = await w.started({ sessionTimeoutMs: 60_000 });
  await w.settle(admin.mkdirp('/w/items'));

  const actor = async (slot: number, random: SeededRandom): Promise<void> => {
    const name = `a${slot}`;
    const timers = w.clock.timers(`actor-${slot}`);
    const sleep = (ms: number) => new Promise<void>((resolve) => timers.setTimeout(resolve, ms));
    while (!stopped) {
      const zk = w.client({ sessionTimeoutMs: 2000 + random.int(3) * 1000, connectionLossRate: 0.02 });
      clients[slot] = zk;
      const ok = await zk.start().then(() => true, () => false);
      if (!ok) continue;
      await zk.create(`/w/m-${name}-`, '', 'ephemeralSequential').catch(() => undefined);
      while (!stopped && !isTerminal(zk.state)) {
        const item = `/w/items/i${random.int(5)}`;
        const op = random.int(6);
        const what =
          op === 0 ? zk.create(item, `${name}`).then((p) => `created ${p}`)
          : op === 1 ? zk.setData(item, `${name}-${random.int(100)}`, random.chance(0.5) ? -1 : random.int(3)).then((s) => `set v${s.version} mzxid ${s.mzxid}`)
          : op === 2 ? zk.getData(item, (e) => w.trace.record(name, `watch ${e.type} ${e.path}`)).then((r) => `read ${r.data.toString()} v${r.stat.version}`)
          : op === 3 ? zk.remove(item, random.chance(0.5) ? -1 : random.int(3)).then(() => 'removed')
          : op === 4 ? zk.getChildren('/w', (e) => w.trace.record(name, `watch ${e.type} ${e.path}`)).then((c) => `children ${c.length}`)
          : zk.commit(zk.transaction().check('/w').create(`${item}-run`, Buffer.from(name), 'ephemeral').setData(item, Buffer.from(`${name}!`))).then(() => 'multi ok');
        const result = await what.then(
          (r) => r,
          (err: { code?: string; failedIndex?: number }) => `error ${err.code}${err.failedIndex === undefined ? '' : ` at ${err.failedIndex}`}`,
        );
        w.trace.record(name, `${item} ${['create', 'set', 'get', 'remove', 'children', 'multi'][op]}: ${result}`);
        await sleep(random.int(400));
      }
      await zk.close();
    }
  };

  const actors = [0, 1, 2].map((slot) => actor(slot, w.random.fork()));
  const schedule = async (): Promise<void> => {
    const timers = w.clock.timers('scheduler');
    while (!stopped) {
      await new Promise<void>((resolve) => timers.setTimeout(resolve, 200 + faults.int(1500)));
      const zk = clients[faults.int(3)];
      if (!zk || stopped) continue;
      const kind = faults.int(5);
      if (kind === 0) zk.dropConnection();
      else if (kind === 1) zk.loseNextRequest(faults.chance(0.5) ? 'before-apply' : 'after-apply');
      else if (kind === 2) {
        zk.partition();
        timers.setTimeout(() => zk.heal(), faults.int(4000));
      } else if (kind === 3) {
        zk.freeze();
        timers.setTimeout(() => zk.thaw(), faults.int(5000));
      } else w.clock.stepWall(faults.int(2000) - 1000);
    }
  };
  const scheduler = schedule();
  await w.clock.run({ untilMs: durationMs });
  stopped = true;
  for (const zk of clients) zk?.thaw();
  for (const zk of clients) zk?.heal();
  await w.until(() => clients.every((zk) => isTerminal(zk.state) || zk.state === 'latent'), 60_000).catch(() => undefined);
  await w.settle(Promise.all([...actors, scheduler]), 60_000).catch(() => undefined);
  // Checker: no ephemeral outlives its session.
  const live = new Set(w.server.liveSessions());
  const ephemeralsOfDeadSessions: string[] = [];
  const walk = (path: string) => {
    const n = w.server.peek(path)!;
    if (n.stat.ephemeralOwner !== 0n && !live.has(n.stat.ephemeralOwner)) ephemeralsOfDeadSessions.push(path);
    for (const c of n.children) walk(`${path === '/' ? '' : path}/${c}`);
  };
  walk('/');
  return { trace: w.trace.toString(), ephemeralsOfDeadSessions };
}

describe('the simulation is deterministic', () => {
  it('the same seed gives the same run, byte for byte; another seed another run', async () => {
    const a = await workload(42);
    const b = await workload(42);
    const c = await workload(43);
    expect(a.trace.length).toBeGreaterThan(10_000);
    expect(a.trace).toMatch(/fault: frozen/);
    expect(a.trace).toMatch(/fault: partition/);
    expect(a.trace).toMatch(/error ZK_CONNECTION_LOSS/);
    expect(a.trace).toMatch(/multi ok/);
    expect(a.trace).toMatch(/watch /);
    expect(b.trace).toBe(a.trace);
    expect(c.trace).not.toBe(a.trace);
    expect(a.ephemeralsOfDeadSessions).toEqual([]);
    expect(c.ephemeralsOfDeadSessions).toEqual([]);
  });
});
