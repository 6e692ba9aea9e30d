import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../src/zk/zk-client.js';
import { PERMS, policyAcl, sameAcl, ZkCredentials, type ZkAcl } from '../../src/zk/zk-acl.js';
import { NotAuthorizedError } from '../../src/zk/zk-errors.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { zkConnect } from '../support/zk-connect.js';
import { uniqueNamespace } from '../support/zk-namespace.js';
import { testJob } from '../support/test-job.js';
import { client, EXTRA_ACL, FLEET, fleetWorker, removeTree } from '../security/security-fixture.js';

/** The owner of a chroot, who lets the fleet read it but not create in it. */
const ADMIN = new ZkCredentials('chroot-admin', `a-${process.pid}`);

describe('ZkClient: credentials and ACLs', () => {
  const chroot = `/${uniqueNamespace('chroot')}`;
  const opened: ZkClient[] = [];
  afterAll(async () => {
    const fleet = await client(zkConnect(), FLEET);
    await removeTree(fleet, `${chroot}/ns`);
    await fleet.close();
    const admin = await client(zkConnect(), ADMIN);
    await admin.remove(`${chroot}/ns`).catch(() => undefined);
    await admin.remove(chroot).catch(() => undefined);
    await admin.close();
    await Promise.all(opened.map((c) => c.close()));
  });

  it('a fleet under an existing chroot it may not create in starts: mkdirp never re-creates what exists', async () => {
    const admin = await client(zkConnect(), ADMIN);
    opened.push(admin);
    admin.useAcl([{ scheme: 'digest', id: ADMIN.id, perms: PERMS.all }, { scheme: 'digest', id: FLEET.id, perms: PERMS.read }]);
    await admin.create(chroot);
    // The namespace node is made for the fleet by the chroot's owner (the fleet could not create it).
    admin.useAcl([{ scheme: 'digest', id: ADMIN.id, perms: PERMS.all }, ...policyAcl(FLEET, EXTRA_ACL)]);
    await admin.create(`${chroot}/ns`);

    const fleet = new ZkClient({ connect: `${zkConnect()}${chroot}`, sessionTimeoutMs: 4000, credentials: FLEET, logger: silentLogger() });
    opened.push(fleet);
    await fleet.start();
    // CREATE on the chroot is checked before NodeExists: a blind create of /ns would be refused.
    expect(await fleet.create('/ns').catch((e: unknown) => e)).toBeInstanceOf(NotAuthorizedError);
    await fleet.mkdirp('/ns/jobs/x');
    expect(sameAcl((await fleet.getAcl('/ns/jobs/x')).acl, policyAcl(FLEET))).toBe(true);

    const w = fleetWorker(`${zkConnect()}${chroot}`, 'ns', 'w1', [testJob('nightly', { cron: '0 0 0 1 1 *', shards: 2 })]);
    await w.start();
    expect(w.state).toBe('running');
    await w.shutdown();
  });

  it('an ACL list must not be empty; refuseCreates stops creates and multis with creates before anything is sent', async () => {
    expect(() => new ZkClient({ connect: '127.0.0.1:1', acl: [] as ZkAcl[] })).toThrow(/`acl` must hold at least one entry/);
    const zk = new ZkClient({ connect: zkConnect(), sessionTimeoutMs: 4000, credentials: FLEET, logger: silentLogger() });
    opened.push(zk);
    await zk.start();
    zk.refuseCreates('no policy');
    const ns = `/${uniqueNamespace('refuse')}`;
    expect(await zk.create(ns).catch((e: unknown) => (e as Error).message)).toBe(`not authorized: fleet may not create (${ns}): no policy`);
    expect(await zk.commit(zk.transaction().create(ns)).catch((e: unknown) => e)).toBeInstanceOf(NotAuthorizedError);
    expect(await zk.exists(ns)).toBeNull();
  });
});
