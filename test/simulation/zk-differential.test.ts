import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkSession } from '../../src/zk/zk-session.js';
import type { ZkStat } from '../../src/zk/zk-stat.js';
import { ZkTransactionError } from '../../src/zk/zk-transaction.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { SeededRandom } from '../../src/simulation/seeded-random.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { removeTree } from '../support/zk-test-client.js';
import { SimWorld } from './sim-world.js';

/*
 * Differential test: the same random sequences of operations (reads, writes with and without
 * versions, sequential and ephemeral creates, multis) run on a real ZooKeeper and on the
 * simulation, and every outcome must be the same (zxids and times aside: the real server is shared).
 */

const PATHS = ['a', 'b', 'a/x', 'a/x', 'a/y', 'b/z', 'b/z', 'a/x/k', 'a/x/k', 'missing/q'];
/** Operation kinds, weighted toward writes so that sequences build trees instead of reading nothing. */
const OPS = [0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 7, 7] as const;

function statOf(s: ZkStat | null): string {
  return s ? `{v${s.version} cv${s.cversion} n${s.numChildren} len${s.dataLength}${s.ephemeralOwner ? ' eph' : ''}}` : 'null';
}

/** One random operation on `zk` under `root`, and its outcome as text (paths relative to root). */
async function step(zk: ZkSession, root: string, r: SeededRandom): Promise<string> {
  const rel = r.pick(PATHS);
  const p = `${root}/${rel}`;
  const version = r.chance(0.5) ? -1 : r.int(3);
  const data = `d${r.int(10)}`;
  const strip = (s: string) => s.split(root).join('');
  const op = r.pick(OPS);
  const run = async (): Promise<string> => {
    switch (op) {
      case 0:
        return strip(await zk.create(p, data, r.pick(['persistent', 'ephemeral', 'persistentSequential', 'ephemeralSequential'] as const)));
      case 1:
        return statOf(await zk.setData(p, data, version));
      case 2:
        await zk.remove(p, version);
        return 'removed';
      case 3: {
        const got = await zk.getData(p);
        return `${got.data.toString()} ${statOf(got.stat)}`;
      }
      case 4:
        return statOf(await zk.exists(p));
      case 5:
        return (await zk.getChildren(p)).sort().map(strip).join(',');
      case 6:
        return String(await zk.createIfAbsent(p, data));
      default: {
        const tx = zk.transaction();
        const n = 1 + r.int(3);
        for (let i = 0; i < n; i++) {
          const q = `${root}/${r.pick(PATHS)}`;
          const v = r.chance(0.5) ? -1 : r.int(3);
          const kind = r.int(4);
          if (kind === 0) tx.create(q, Buffer.from(data), r.chance(0.3) ? 'ephemeral' : 'persistent');
          else if (kind === 1) tx.setData(q, Buffer.from(data), v);
          else if (kind === 2) tx.remove(q, v);
          else tx.check(q, v);
        }
        const results = await zk.commit(tx);
        return results.map((x) => `${x.type}${x.path ? ` ${strip(x.path)}` : ''}${x.stat ? ` ${statOf(x.stat)}` : ''}`).join('; ');
      }
    }
  };
  const label = `${['create', 'setData', 'remove', 'getData', 'exists', 'getChildren', 'createIfAbsent', 'multi'][op]} ${rel}`;
  try {
    return `${label} -> ${await run()}`;
  } catch (err) {
    const e = err as { code?: string; failedIndex?: number; message?: string };
    return `${label} -> ${e.code}${err instanceof ZkTransactionError ? ` at ${e.failedIndex}` : ''}`;
  }
}

/** Every node under `root`, with its data and the stat fields compared, in a fixed order. */
async function dump(zk: ZkSession, root: string, rel = ''): Promise<string[]> {
  const got = await zk.getData(`${root}${rel}`);
  const lines = [`${rel || '/'} ${got.data.toString()} ${statOf(got.stat)}`];
  for (const child of (await zk.getChildren(`${root}${rel}`)).sort()) lines.push(...(await dump(zk, root, `${rel}/${child}`)));
  return lines;
}

describe('differential: random operation sequences give the same outcomes on a real ZooKeeper and on the simulation', () => {
  let real: ZkClient;
  const roots: string[] = [];
  beforeAll(async () => {
    real = new ZkClient({ connect: zkConnect(), sessionTimeoutMs: 4000, logger: silentLogger() });
    await real.start();
  });
  afterAll(async () => {
    for (const root of roots) await removeTree(real, root);
    await real.close();
  });

  it('20 sequences of 30 operations', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const realRoot = `/${uniqueNamespace(`diff-${seed}`)}`;
      roots.push(realRoot);
      await real.create(realRoot);
      for (const base of ['a', 'b']) await real.create(`${realRoot}/${base}`);
      const w = new SimWorld(seed);
      const pump = w.clock.pump();
      const sim = await w.started({ sessionTimeoutMs: 4000 });
      await sim.create('/diff');
      for (const base of ['a', 'b']) await sim.create(`/diff/${base}`);
      const rReal = new SeededRandom(seed);
      const rSim = new SeededRandom(seed);
      const realLog: string[] = [];
      const simLog: string[] = [];
      for (let i = 0; i < 30; i++) {
        realLog.push(await step(real, realRoot, rReal));
        simLog.push(await step(sim, '/diff', rSim));
      }
      realLog.push(...(await dump(real, realRoot)));
      simLog.push(...(await dump(sim, '/diff')));
      await sim.close();
      await pump.stop();
      expect({ seed, log: simLog }).toEqual({ seed, log: realLog });
    }
  });
});
