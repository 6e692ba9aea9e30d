import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fourLetterWord, serverMode } from '../../src/zk/four-letter-word.js';
import { DEBIAN_ZOOKEEPER_JAR } from '../../src/testing/java.js';
import { ZooKeeperEnsemble } from '../../src/testing/zookeeper-ensemble.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { NetworkLab } from '../../src/testing/network-lab.js';
import type { NetworkNamespace } from '../../src/testing/network-namespace.js';
import { netnsSupport } from '../../src/testing/netns-support.js';
import { waitFor } from '../support/wait-for.js';

const hasJar = existsSync(DEBIAN_ZOOKEEPER_JAR);

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

// The steps share one ensemble and run in order (vitest runs a file's tests sequentially).
describe.skipIf(!hasJar)(`ZooKeeperEnsemble (needs ${DEBIAN_ZOOKEEPER_JAR})`, () => {
  const ensemble = new ZooKeeperEnsemble({ size: 3 });
  afterAll(() => ensemble.close());

  it('starts three servers on loopback that all answer and serve with one leader', async () => {
    await ensemble.start();

    expect(ensemble.connectString).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    const answers = await Promise.all(ensemble.servers.map((s) => fourLetterWord('127.0.0.1', s.ports.client, 'ruok')));
    expect(answers).toEqual(['imok', 'imok', 'imok']);
    expect((await ensemble.modes()).sort()).toEqual(['follower', 'follower', 'leader']);
    expect(ensemble.pids.every((pid) => pid !== undefined)).toBe(true);
  });

  it('keeps serving on the other two when the leader is stopped, and takes it back', async () => {
    const leader = await ensemble.leader();
    expect(leader).toBeDefined();
    const stopped = leader!;
    const stoppedPid = ensemble.pids[stopped]!;

    await ensemble.stopServer(stopped);
    expect(ensemble.servers[stopped]!.running).toBe(false);
    expect(isGone(stoppedPid)).toBe(true);

    const others = [0, 1, 2].filter((i) => i !== stopped);
    await waitFor(
      async () => {
        const modes = await Promise.all(others.map((i) => serverMode('127.0.0.1', ensemble.servers[i]!.ports.client)));
        return modes.includes('leader') && modes.includes('follower') ? modes : undefined;
      },
      { timeoutMs: 20_000, message: `servers ${others.join(', ')} to elect a new leader without server ${stopped}` },
    );

    await ensemble.startServer(stopped);
    expect(await serverMode('127.0.0.1', ensemble.servers[stopped]!.ports.client)).toMatch(/^(leader|follower)$/);
    await ensemble.waitForQuorum();
  });

  it('brings a crashed (SIGKILLed) follower back with restartServer', async () => {
    const follower = (await ensemble.modes()).indexOf('follower');
    expect(follower).toBeGreaterThanOrEqual(0);
    const before = ensemble.pids[follower]!;

    await ensemble.restartServer(follower, { signal: 'SIGKILL' });

    expect(isGone(before)).toBe(true);
    expect(ensemble.pids[follower]).not.toBe(before);
    await ensemble.waitForQuorum();
  });

  it('freezes a server with pauseServer and thaws it with resumeServer', async () => {
    const port = ensemble.servers[0]!.ports.client;
    ensemble.pauseServer(0);
    expect(ensemble.servers[0]!.paused).toBe(true);
    await expect(fourLetterWord('127.0.0.1', port, 'ruok', 300)).rejects.toThrow(/no answer within 300 ms/);

    ensemble.resumeServer(0);
    await waitFor(async () => (await fourLetterWord('127.0.0.1', port, 'ruok', 1000)) === 'imok', {
      timeoutMs: 10_000,
      message: 'server 0 to answer again after SIGCONT',
    });
    await ensemble.waitForQuorum();
  });

  it('close() ends every JVM it started and removes its directory; a second close() is a no-op', async () => {
    const pids = ensemble.pids.filter((p): p is number => p !== undefined);
    const dir = ensemble.dataDir;
    expect(pids).toHaveLength(3);
    expect(dir !== undefined && existsSync(dir)).toBe(true);

    await ensemble.close();
    await ensemble.close();

    expect(pids.filter((pid) => !isGone(pid))).toEqual([]);
    expect(existsSync(dir!)).toBe(false);
    await expect(ensemble.start()).rejects.toThrow(/after close/);
  });
});

describe('ZooKeeperEnsemble and ZooKeeperServer options: bind addresses', () => {
  it('rejects hosts or netns of the wrong length and addresses that are not IPv4, before any I/O', () => {
    expect(() => new ZooKeeperEnsemble({ size: 3, hosts: ['127.0.0.1'] })).toThrow('hosts has 1 entries, size is 3');
    expect(() => new ZooKeeperEnsemble({ size: 3, hosts: ['127.0.0.1', 'localhost', '127.0.0.1'] })).toThrow('hosts[1] must be an IPv4 address, got "localhost"');
    expect(() => new ZooKeeperServer({ host: '::1' })).toThrow('host must be an IPv4 address, got "::1"');
    expect(new ZooKeeperEnsemble({ size: 3, hosts: ['10.213.9.2', '10.213.9.3', '10.213.9.4'], ports: [1, 2, 3].map((i) => ({ client: 2180 + i, peer: 2880 + i, election: 3880 + i })) }).connectString)
      .toBe('10.213.9.2:2181,10.213.9.3:2182,10.213.9.4:2183');
  });
});

const netns = await netnsSupport();

describe.skipIf(!hasJar || !netns.ok)('ZooKeeperEnsemble in network namespaces (root, ip, iptables)', () => {
  let lab: NetworkLab | undefined;
  let ensemble: ZooKeeperEnsemble | undefined;
  afterAll(async () => {
    await ensemble?.close();
    await lab?.close();
  });

  it('runs each server in its own namespace on its address; a leader cut off from the others loses its quorum, a new leader is elected, and it rejoins after the heal', async () => {
    lab = new NetworkLab();
    await lab.start();
    const ns: NetworkNamespace[] = [];
    for (const label of ['zk1', 'zk2', 'zk3']) ns.push(await lab.addNamespace(label));
    ensemble = new ZooKeeperEnsemble({ size: 3, netns: ns });
    const e = ensemble;
    await e.start();
    expect(e.hosts).toEqual(ns.map((n) => n.address));
    expect(e.connectString).toBe(e.servers.map((s, i) => `${ns[i]!.address}:${s.ports.client}`).join(','));

    const leader = (await e.leader())!;
    expect(leader).toBeDefined();
    await ns[leader]!.cut(e.hosts.filter((_, i) => i !== leader));
    await waitFor(async () => {
      const modes = await e.modes();
      return modes[leader] === undefined && modes.filter((m) => m === 'leader').length === 1;
    }, { timeoutMs: 60_000, intervalMs: 200, message: 'the cut-off leader to stop serving and another server to lead' });

    await ns[leader]!.heal();
    await e.waitForQuorum(60_000);
    expect((await e.modes()).sort()).toEqual(['follower', 'follower', 'leader']);
  });
});
