import type { TestProject } from 'vitest/node';
import { findZooKeeper } from '../../src/testing/find-zookeeper.js';
import { findPostgres } from '../../src/testing/find-postgres.js';
import './provided-context.js';

/**
 * Finds (or starts) the one ZooKeeper every test file of the run shares, per PRODUCT §6:
 * `ZKSHARD_ZK`/`ZK_CONNECT`, else a container if Docker answers, else the Debian package's server
 * (installed first when missing and we are root). Tests read it with `inject('zkConnect')` and
 * isolate themselves under `uniqueNamespace()`. Likewise one PostgreSQL (`inject('pgUrl')`; tests
 * make their own database with `createTestDatabase()`). The returned teardown stops what was started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const zk = await findZooKeeper();
  project.provide('zkConnect', zk.connectString);
  project.provide('zkKind', zk.kind);
  if (zk.kind !== 'env') process.stderr.write(`zkshard tests: ZooKeeper (${zk.kind}) at ${zk.connectString}\n`);
  // PostgreSQL for the run history tests, found the same way (`ZKSHARD_PG_URL`, else Debian's server).
  const pg = await findPostgres().catch(async (err: unknown) => {
    await zk.close();
    throw err;
  });
  project.provide('pgUrl', pg.url);
  if (pg.kind !== 'env') process.stderr.write(`zkshard tests: PostgreSQL (${pg.kind}) at ${pg.url}\n`);
  return async () => {
    await pg.close();
    await zk.close();
  };
}
