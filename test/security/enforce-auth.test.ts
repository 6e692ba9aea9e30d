import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperServer } from '../../src/testing/zookeeper-server.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { NotAuthorizedError } from '../../src/zk/zk-errors.js';
import { digestId, formatAcl, PERMS, policyAcl, sameAcl, ZkCredentials } from '../../src/zk/zk-acl.js';
import { applyAcl } from '../../src/api/acl-apply.js';
import { auditAcl } from '../../src/api/acl-audit.js';
import type { Worker } from '../../src/worker/worker.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';
import { client, EXTRA_ACL, FLEET, fleetWorker, walk } from './security-fixture.js';

/** Break-glass identity the server knows through `superDigest`. */
const SUPER = new ZkCredentials('super', `s-${process.pid}-${Date.now()}`);

describe('a ZooKeeper with enforce.auth.enabled and a superDigest', () => {
  const server = new ZooKeeperServer({
    config: { 'enforce.auth.enabled': true, 'enforce.auth.schemes': 'digest', 'DigestAuthenticationProvider.superDigest': digestId(SUPER.user, SUPER.authBytes().toString().split(':')[1]!) },
  });
  const workers: Worker[] = [];
  let sup: ZkClient;

  beforeAll(async () => {
    await server.start();
    sup = await client(server.connectString, SUPER);
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    await sup?.close();
    await server.close();
  });

  it('refuses a session without credentials at its first request; a worker without them exits at start, nothing created', async () => {
    const anonymous = await client(server.connectString);
    try {
      const err = await anonymous.getChildren('/').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotAuthorizedError);
      expect((err as Error).message).toBe('not authorized: ZooKeeper refused the session of anonymous (SESSION_CLOSED_REQUIRE_SASL_AUTH: it requires credentials, set ZKSHARD_ZK_AUTH)');
    } finally {
      await anonymous.close();
    }
    const w = fleetWorker(server.connectString, 'enforced', 'nobody', [testJob('tick', { cron: '0 0 0 1 1 *', shards: 2 })], null);
    expect(await w.start().catch((e: unknown) => e)).toBeInstanceOf(NotAuthorizedError);
    expect(await sup.exists('/enforced')).toBeNull();
  });

  it("rotates the fleet's password without downtime: both hashes, rolling restart, then the old one removed", async () => {
    const paths = new ZkPaths('rotate');
    const job = testJob('tick', { cron: '* * * * * *', shards: 2 });
    const runs: Array<{ item: number; fire: number; worker: string }> = [];
    const start = (id: string, credentials: ZkCredentials, acl = EXTRA_ACL) => {
      const w = fleetWorker(server.connectString, 'rotate', id, [job], credentials, { acl, onRun: { started: (req) => void runs.push({ item: req.item, fire: req.fireTime.getTime(), worker: id }) } });
      workers.push(w);
      return w.start().then(() => w);
    };
    const everyItemRanSince = (since: number, worker?: string) =>
      waitFor(() => [0, 1].every((item) => runs.some((r) => r.item === item && r.fire > since && (worker === undefined || r.worker === worker || r.worker.startsWith(worker)))), { timeoutMs: 10_000, message: `every item ran since ${since}` });

    const [a, b] = [await start('a', FLEET), await start('b', FLEET)];
    await everyItemRanSince(Date.now());
    const fleet = await client(server.connectString, FLEET);
    const NEW = new ZkCredentials('fleet', `new-${Date.now()}`);
    const newEntry = { scheme: 'digest', id: NEW.id, perms: PERMS.all };
    const oldEntry = { scheme: 'digest', id: FLEET.id, perms: PERMS.all };
    try {
      // 1. Every node grants the new password too.
      await applyAcl(fleet, paths, policyAcl(FLEET, [newEntry, ...EXTRA_ACL]));
      // 2. Rolling restart with the new password (the old hash still in its zookeeper.acl).
      const a2 = await start('a2', NEW, [oldEntry, ...EXTRA_ACL]);
      await a.shutdown();
      const b2 = await start('b2', NEW, [oldEntry, ...EXTRA_ACL]);
      await b.shutdown();
      const rolled = Date.now();
      await everyItemRanSince(rolled, '');
      // 3. The old hash goes.
      const renewed = await client(server.connectString, NEW);
      try {
        const policy = policyAcl(NEW, EXTRA_ACL);
        await applyAcl(renewed, paths, policy);
        expect((await auditAcl(renewed, paths.root, policy)).findings).toEqual([]);
        for (const node of await walk(renewed, paths.root)) expect(sameAcl((await renewed.getAcl(node)).acl, policy), node).toBe(true);
      } finally {
        await renewed.close();
      }
      const old = await client(server.connectString, FLEET);
      try {
        expect(await old.getChildren(paths.jobs).catch((e: unknown) => e)).toBeInstanceOf(NotAuthorizedError);
      } finally {
        await old.close();
      }
      // No downtime: every fire of every item ran from the first one after the rolling restart on.
      const after = Date.now();
      await everyItemRanSince(after + 1000);
      const from = Math.ceil(rolled / 1000) * 1000 + 1000;
      const to = Math.floor(after / 1000) * 1000 + 1000;
      const missed: string[] = [];
      for (let fire = from; fire <= to; fire += 1000) for (const item of [0, 1]) if (!runs.some((r) => r.item === item && r.fire === fire)) missed.push(`${item}@${fire}`);
      expect(missed).toEqual([]);
      expect(a2.state).toBe('running');
      expect(b2.state).toBe('running');
      expect(formatAcl(newEntry)).toContain('digest:fleet:');
      // Break-glass: the superDigest identity still reads (and could repair) everything.
      expect(await sup.getChildren(paths.jobs)).toEqual(['tick']);
    } finally {
      await fleet.close();
    }
  });
});
