import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { RunLedger } from '../../src/executor/run-ledger.js';
import { chunkBySize, MAX_MULTI_BYTES } from '../../src/zk/multi-size.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { decodeProgress } from '../../src/model/progress-record.js';
import { decodeMarker } from '../../src/model/running-marker.js';

/**
 * Drops the client's TCP connection (the session survives), as a server restart does; resolves
 * once the client is back on the same session.
 */
function dropConnection(zk: ZkClient): Promise<void> {
  const back = new Promise<void>((resolve) => {
    const onState = (state: string) => {
      if (state === 'reconnected') {
        zk.off('state', onState);
        resolve();
      }
    };
    zk.on('state', onState);
  });
  (zk as unknown as { cm: { socket?: { destroy(): void } } }).cm.socket?.destroy();
  return back;
}

describe('RunLedger when the connection drops mid-request', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  it('begin and release end consistent whether or not the lost multi was applied', async () => {
    server = new ZooKeeperServer();
    await server.start();
    zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 6000, logger: silentLogger() });
    await zk.start();
    const paths = new ZkPaths('ledger');
    await zk.mkdirp(paths.items('job'));
    await zk.create(paths.item('job', 0));
    await zk.mkdirp(paths.workers);
    await zk.create(paths.member('m-test-0000000001'), undefined, 'ephemeral');
    const ledger = new RunLedger(zk, paths, { name: 'm-test-0000000001', workerId: 'w' }, silentLogger());
    for (let round = 0; round < 12; round++) {
      const fireTime = new Date(Date.UTC(2026, 0, 1, 0, 0, round));
      await ledger.load('job', 0);
      const begun = ledger.begin([{ job: 'job', item: 0, fireTime, attempt: 1 }]);
      const reconnected = round % 2 === 1 ? dropConnection(zk) : new Promise<void>((resolve) => setImmediate(() => void dropConnection(zk!).then(resolve)));
      const [result] = await begun;
      await reconnected;
      expect(result, `round ${round}`).toMatchObject({ status: 'started' });
      const marker = decodeMarker((await zk.getData(paths.running('job', 0))).data);
      expect(marker?.fireTime).toBe(fireTime.toISOString());
      expect(decodeProgress((await zk.getData(paths.item('job', 0))).data).lastScheduled).toBe(fireTime.toISOString());

      const released = ledger.release({ job: 'job', item: 0, fireTime, attempt: 1, outcome: 'success', durationMs: 1, keepInFlight: false });
      const reconnectedAgain = new Promise<void>((resolve) => setTimeout(() => void dropConnection(zk!).then(resolve), round % 3));
      expect(await released, `round ${round}`).toBe(true);
      await reconnectedAgain;
      expect(await zk.exists(paths.running('job', 0))).toBeNull();
      const progress = decodeProgress((await zk.getData(paths.item('job', 0))).data);
      expect(progress).toMatchObject({ inFlight: null, outcome: 'success', lastCompleted: fireTime.toISOString() });
    }
  });
});

describe('chunkBySize()', () => {
  it('cuts consecutive chunks within the byte budget, keeping order; an oversized item gets a chunk alone', () => {
    expect(chunkBySize([100, 100, 100, 100, 100], (n) => n, 250)).toEqual([[100, 100], [100, 100], [100]]);
    expect(chunkBySize([300, 10, 10], (n) => n, 250)).toEqual([[300], [10, 10]]);
    expect(chunkBySize([], (n: number) => n, 250)).toEqual([]);
  });

  it('keeps every chunk within MAX_MULTI_BYTES, itself below ZooKeeper\'s 1 MB request limit with room to spare', () => {
    const items = Array.from({ length: 2000 }, () => 2600);
    const chunks = chunkBySize(items, (n) => n);
    expect(chunks.every((c) => c.reduce((a, b) => a + b, 0) <= MAX_MULTI_BYTES)).toBe(true);
    expect(MAX_MULTI_BYTES).toBeLessThanOrEqual(0xfffff - 60 * 1024); // estimates are upper bounds, plus this margin
    expect(chunks.flat()).toHaveLength(2000);
  });
});

describe('RunLedger at 2,000 items per instant', () => {
  let server: ZooKeeperServer | undefined;
  let zk: ZkClient | undefined;
  afterEach(async () => {
    await zk?.close();
    await server?.close();
  });

  it('starts and ends 2,000 runs in one transaction each (successes: their histories are written every few seconds)', async () => {
    server = new ZooKeeperServer();
    await server.start();
    const multis: number[] = [];
    zk = new ZkClient({ connect: server.connectString, sessionTimeoutMs: 6000, logger: silentLogger(), onRequest: (op) => void (op === 'multi' && multis.push(1)) });
    await zk.start();
    const paths = new ZkPaths('ledger-2k');
    const jobs = Array.from({ length: 250 }, (_, j) => `job-${String(j).padStart(4, '0')}`);
    await zk.mkdirp(paths.workers);
    for (const job of jobs) {
      await zk.mkdirp(paths.items(job));
      const tx = zk.transaction();
      for (let i = 0; i < 8; i++) tx.create(paths.item(job, i));
      await zk.commit(tx);
    }
    await zk.create(paths.member('m-0123456789abcdef-0000000001'), undefined, 'ephemeral');
    const ledger = new RunLedger(zk, paths, { name: 'm-0123456789abcdef-0000000001', workerId: 'worker-1' }, silentLogger());
    const items = jobs.flatMap((job) => Array.from({ length: 8 }, (_, item) => ({ job, item })));
    for (let round = 0; round < 11; round++) {
      const fireTime = new Date(Date.UTC(2026, 0, 1, 0, 0, round));
      multis.length = 0;
      const results = await ledger.begin(items.map(({ job, item }) => ({ job, item, fireTime, attempt: 1 })));
      expect(results.every((r) => r.status === 'started'), `round ${round}`).toBe(true);
      expect(multis, `begin, round ${round}`).toHaveLength(1);
      multis.length = 0;
      const written = await Promise.all(items.map(({ job, item }) => ledger.release({ job, item, fireTime, attempt: 1, outcome: 'success', durationMs: 12, keepInFlight: false })));
      expect(written.every(Boolean), `round ${round}`).toBe(true);
      expect(multis, `release, round ${round}`).toHaveLength(1);
    }
  }, 120_000);
});
