import { describe } from 'vitest';
import type { ZkSession } from '../../src/zk/zk-session.js';
import { SimClock } from '../../src/simulation/sim-clock.js';
import { SeededRandom } from '../../src/simulation/seeded-random.js';
import { SimZooKeeper } from '../../src/simulation/sim-zookeeper.js';
import { SimZkClient } from '../../src/simulation/sim-zk-client.js';
import { zkConformanceSuite, type ConformanceTarget } from './zk-conformance.js';

/**
 * The simulation, configured as the shared test server is (tickTime 500, session timeouts
 * 1,000..60,000 ms), driven by its clock in the background while a case awaits it.
 */
async function simTarget(seed: number): Promise<ConformanceTarget> {
  const random = new SeededRandom(seed);
  const clock = new SimClock({ random: random.fork() });
  const server = new SimZooKeeper({ timers: clock.timers('server'), random: random.fork(), tickMs: 500, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 });
  const pump = clock.pump();
  const sessions: SimZkClient[] = [];
  const open = async (options: { sessionTimeoutMs?: number } = {}): Promise<ZkSession> => {
    const zk = new SimZkClient({ server, clock, process: `p${sessions.length}`, random: random.fork(), sessionTimeoutMs: options.sessionTimeoutMs ?? 4000 });
    sessions.push(zk);
    await zk.start();
    return zk;
  };
  const admin = await open();
  const root = '/conformance';
  await admin.create(root);
  return {
    root,
    open,
    expire: async (session) => server.expireSession((session as SimZkClient).serverSessionId),
    disconnect: (session) => (session as SimZkClient).dropConnection(),
    close: async () => {
      await Promise.all(sessions.map((s) => s.close()));
      await pump.stop();
    },
  };
}

describe('ZooKeeper conformance: SimZkClient on the simulated server', () => {
  let seed = 1;
  zkConformanceSuite(() => simTarget(seed++));
});
