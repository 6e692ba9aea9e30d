import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDockerReachable } from '../../src/testing/docker-engine.js';
import { findZooKeeper } from '../../src/testing/find-zookeeper.js';
import { isAlive, serverMode } from '../../src/zk/four-letter-word.js';
import { DEBIAN_ZOOKEEPER_JAR } from '../../src/testing/java.js';
import { ZooKeeperNotFoundError } from '../../src/testing/zookeeper-errors.js';

const quiet = { log: () => undefined };

describe('findZooKeeper from the environment', () => {
  it('returns ZKSHARD_ZK as is, trimmed, with a no-op close', async () => {
    const zk = await findZooKeeper({ ...quiet, env: { ZKSHARD_ZK: ' 10.0.0.5:2181,10.0.0.6:2181/chroot ' } });
    expect(zk.kind).toBe('env');
    expect(zk.connectString).toBe('10.0.0.5:2181,10.0.0.6:2181/chroot');
    await expect(zk.close()).resolves.toBeUndefined();
  });

  it('falls back to ZK_CONNECT when ZKSHARD_ZK is unset or empty', async () => {
    expect((await findZooKeeper({ ...quiet, env: { ZK_CONNECT: 'zk:2181' } })).connectString).toBe('zk:2181');
    expect((await findZooKeeper({ ...quiet, env: { ZKSHARD_ZK: '  ', ZK_CONNECT: 'zk:2181' } })).connectString).toBe('zk:2181');
  });

  it('prefers ZKSHARD_ZK over ZK_CONNECT', async () => {
    const zk = await findZooKeeper({ ...quiet, env: { ZKSHARD_ZK: 'a:1', ZK_CONNECT: 'b:2' } });
    expect(zk.connectString).toBe('a:1');
  });
});

describe('Docker engine probe', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('says no quickly when DOCKER_HOST names a socket that does not exist', async () => {
    const started = Date.now();
    expect(await isDockerReachable({ env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, timeoutMs: 1000 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('says yes when the socket answers GET /_ping with OK, and no when it answers something else', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-docker-'));
    const socketPath = join(dir, 'docker.sock');
    let answer = 'OK';
    server = createServer((req, res) => res.end(req.url === '/_ping' ? answer : 'nope'));
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    const env = { DOCKER_HOST: `unix://${socketPath}` };

    expect(await isDockerReachable({ env })).toBe(true);
    answer = 'not docker';
    expect(await isDockerReachable({ env })).toBe(false);
  });

  it('fails with ZooKeeperNotFoundError when docker: true and no engine answers', async () => {
    await expect(
      findZooKeeper({ ...quiet, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, docker: true }),
    ).rejects.toBeInstanceOf(ZooKeeperNotFoundError);
  });
});

describe('findZooKeeper with nothing usable', () => {
  it('says how to get a ZooKeeper when no env var, no Docker and no local server can be had', async () => {
    const err = await findZooKeeper({ ...quiet, env: {}, docker: false, install: false, server: { java: '/nonexistent/java' } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ZooKeeperNotFoundError);
    const message = (err as Error).message;
    expect(message).toContain('local server: java missing; installing is turned off');
    expect(message).toContain('ZKSHARD_ZK=host:2181');
    expect(message).toContain('scripts/install-zookeeper.sh');
  });
});

describe.skipIf(!existsSync(DEBIAN_ZOOKEEPER_JAR))('findZooKeeper without env or Docker', () => {
  it('starts a local server from the Debian package and stops it on close()', async () => {
    const zk = await findZooKeeper({ ...quiet, env: {}, docker: false });
    try {
      expect(zk.kind).toBe('local');
      expect(zk.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
      const port = Number(zk.connectString.split(':')[1]);
      expect(await serverMode('127.0.0.1', port)).toBe('standalone');
      await zk.close();
      expect(await isAlive('127.0.0.1', port, 300)).toBe(false);
    } finally {
      await zk.close();
    }
  });
});
