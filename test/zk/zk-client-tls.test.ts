import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { ZkUnavailableError } from '../../src/zk/zk-errors.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { testJob } from '../support/test-job.js';
import { waitFor } from '../support/wait-for.js';
import { authText, FLEET, fleetWorker } from '../security/security-fixture.js';
import { zkctl } from '../api/fleet-fixture.js';
import { parseWorkerConfig } from '../../src/config/load-worker-config.js';

/** A CA made for this test, and a server certificate it signed for 127.0.0.1 (plus an unrelated CA). */
function makeCertificates(dir: string): { keyStore: string; ca: Buffer; otherCa: Buffer } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=zkshard-test-ca');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=someone-else');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  run('pkcs12', '-export', '-in', 'server.crt', '-inkey', 'server.key', '-out', 'server.p12', '-passout', 'pass:test-store', '-name', 'server');
  return { keyStore: join(dir, 'server.p12'), ca: readFileSync(join(dir, 'ca.crt')), otherCa: readFileSync(join(dir, 'other.crt')) };
}

describe('TLS to ZooKeeper\'s secureClientPort (a real TLS-enabled server, a CA made by the test)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zkshard-tls-'));
  const certs = makeCertificates(dir);
  const server = new ZooKeeperServer({ tls: { keyStoreFile: certs.keyStore, keyStorePassword: 'test-store' } });
  const open: Array<{ close(): Promise<void> }> = [];
  const connect = (connectString: string, tls?: { ca: Buffer }, connectTimeoutMs = 3000) => {
    const zk = new ZkClient({ connect: connectString, sessionTimeoutMs: 4000, connectTimeoutMs, credentials: FLEET, tls, logger: silentLogger() });
    open.push(zk);
    return zk;
  };

  beforeAll(() => server.start());
  afterAll(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session with digest credentials works over TLS, and a worker joins and fires over it', async () => {
    const zk = connect(server.secureConnectString, { ca: certs.ca });
    await zk.start();
    await zk.create('/over-tls', 'hello');
    expect((await zk.getData('/over-tls')).data.toString()).toBe('hello');

    const runs: number[] = [];
    const w = fleetWorker(server.secureConnectString, 'tls-fleet', 'w1', [testJob('tick', { cron: '* * * * * *', shards: 2 })], FLEET, {
      tls: { ca: certs.ca },
      onRun: { started: (req) => void runs.push(req.item) },
    });
    open.push({ close: () => w.shutdown() });
    await w.start();
    await waitFor(() => runs.includes(0) && runs.includes(1), { timeoutMs: 10_000, message: 'both items ran over TLS' });

    // zkctl over TLS: ZKSHARD_ZK_TLS_CA names the CA file.
    const status = await zkctl(['workers'], { zk: server.secureConnectString, namespace: 'tls-fleet', timeoutMs: 60_000, env: { ZKSHARD_ZK_AUTH: authText(FLEET), ZKSHARD_ZK_TLS_CA: join(dir, 'ca.crt') } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('w1');
  });

  it('zookeeper.tls in a worker config: caFile relative to the file, unreadable files and a cert without its key reported', () => {
    const file = join(dir, 'worker.yaml');
    expect(parseWorkerConfig('zookeeper: { tls: { caFile: ./ca.crt } }\n', file, {}, {}).zookeeper.tls!.ca).toEqual(certs.ca);
    expect(() => parseWorkerConfig('zookeeper: { tls: { caFile: ./nope.crt, certFile: ./server.crt } }\n', file, {}, {})).toThrow(
      /zookeeper\.tls\.caFile: cannot read .*nope\.crt: ENOENT[\s\S]*zookeeper\.tls: certFile and keyFile go together/,
    );
  });

  it('refuses a server whose certificate another CA signed, and a plain server; a plain client gets no session on the TLS port', async () => {
    const refused = (connectString: string, tls?: { ca: Buffer }) => connect(connectString, tls, 1500).start().catch((e: unknown) => e);
    const [wrongCa, plainServer, plainClient] = await Promise.all([
      refused(server.secureConnectString, { ca: certs.otherCa }),
      refused(server.connectString, { ca: certs.ca }),
      refused(server.secureConnectString),
    ]);
    expect(wrongCa).toBeInstanceOf(ZkUnavailableError);
    expect((wrongCa as Error).message).toMatch(/over TLS within 1500 ms \(last error: .*(certificate|self.signed)/i);
    expect(plainServer).toBeInstanceOf(ZkUnavailableError);
    expect(plainClient).toBeInstanceOf(ZkUnavailableError);
  });
});
