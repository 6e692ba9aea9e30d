import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import zookeeper from 'node-zookeeper-client';
import { afterAll, describe, expect, it } from 'vitest';
import { fourLetterWord, isAlive, parseMntr, serverMode, servesDataDir } from '../../src/zk/four-letter-word.js';
import { DEBIAN_ZOOKEEPER_JAR } from '../../src/testing/java.js';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { waitFor } from '../support/wait-for.js';

const hasJar = existsSync(DEBIAN_ZOOKEEPER_JAR);

function connect(connectString: string, sessionTimeout: number): Promise<zookeeper.Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout, spinDelay: 100, retries: 0 });
  return new Promise((resolve) => {
    client.once('connected', () => resolve(client));
    client.connect();
  });
}

function createEphemeral(client: zookeeper.Client, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.create(path, Buffer.from('x'), zookeeper.CreateMode.EPHEMERAL, (err) => (err ? reject(err) : resolve())),
  );
}

describe.skipIf(!hasJar)(`ZooKeeperServer (needs ${DEBIAN_ZOOKEEPER_JAR})`, () => {
  const server = new ZooKeeperServer();
  afterAll(() => server.close());

  it('does no I/O before start(): the port is not known yet', () => {
    expect(() => server.connectString).toThrow(/start\(\)/);
    expect(server.running).toBe(false);
  });

  it('starts a standalone server on 127.0.0.1 that serves and reports mntr counters', async () => {
    await server.start();
    await server.start(); // idempotent while running

    expect(server.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await serverMode(server.host, server.port)).toBe('standalone');
    const mntr = parseMntr(await fourLetterWord(server.host, server.port, 'mntr'));
    expect(mntr['zk_server_state']).toBe('standalone');
    expect(typeof mntr['zk_znode_count']).toBe('number');
    expect(await servesDataDir(server.host, server.port, join(server.dataDir!, 'data'))).toBe(true);
    expect(await servesDataDir(server.host, server.port, '/elsewhere')).toBe(false);
  });

  it('keeps port, data and sessions across a quick stop() and start()', async () => {
    const port = server.port;
    const client = await connect(server.connectString, 20_000);
    try {
      // The server prints session ids without leading zeros.
      const sessionId = `0x${BigInt(`0x${client.getSessionId().toString('hex')}`).toString(16)}`;
      await createEphemeral(client, '/survives-restart');

      await server.stop();
      expect(await isAlive(server.host, port, 300)).toBe(false);
      await server.start();

      expect(server.port).toBe(port);
      // Checked on the server side: the restored session still owns its ephemeral node. (Whether a
      // client gets back in depends on the client; node-zookeeper-client can hang when it reconnects
      // while the server is still starting, since it has no handshake timeout.)
      const dump = await fourLetterWord(server.host, port, 'dump');
      expect(dump).toMatch(new RegExp(`${sessionId}:\\s+/survives-restart`));
    } finally {
      client.close();
    }
  });

  it('freezes with pause() and answers again after resume()', async () => {
    server.pause();
    expect(server.paused).toBe(true);
    await expect(fourLetterWord(server.host, server.port, 'ruok', 300)).rejects.toThrow(/no answer/);
    server.resume();
    await waitFor(() => serverMode(server.host, server.port), { timeoutMs: 10_000, message: 'the server to serve after SIGCONT' });
  });

  it('refuses to start on a given port something else listens on', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    const other = new ZooKeeperServer({ port });
    try {
      await expect(other.start()).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
      expect(other.pid).toBeUndefined();
    } finally {
      await other.close();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('close() ends the JVM and removes the temp directory; start() afterwards is refused', async () => {
    const pid = server.pid!;
    const dir = server.dataDir!;
    expect(existsSync(dir)).toBe(true);

    await server.close();

    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(dir)).toBe(false);
    await expect(server.start()).rejects.toThrow(/after close/);
  });
});
