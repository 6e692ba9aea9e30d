import { tmpdir } from 'node:os';
import { Worker } from '../../src/worker/worker.js';
import { ZkClient } from '../../src/zk/zk-client.js';
import { digestId, formatAcl, PERMS, ZkCredentials, type ZkAcl } from '../../src/zk/zk-acl.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';

/** The three identities of a secured fleet, with passwords made for the run. */
export const FLEET = new ZkCredentials('fleet', `f-${process.pid}-${Date.now()}`);
export const OPERATOR = new ZkCredentials('ops', `o-${process.pid}-${Date.now()}`);
export const VIEWER = new ZkCredentials('viewer', `v-${process.pid}-${Date.now()}`);

/** `zookeeper.acl` of the test fleet: the operator with every right, the viewer read-only. */
export const EXTRA_ACL: ZkAcl[] = [
  { scheme: 'digest', id: OPERATOR.id, perms: PERMS.all },
  { scheme: 'digest', id: VIEWER.id, perms: PERMS.read },
];
export const EXTRA_ACL_TEXT = EXTRA_ACL.map(formatAcl);

/** `user:password` as the environment variable carries it (tests only; never logged). */
export function authText(c: ZkCredentials): string {
  return c.authBytes().toString('utf8');
}

export async function client(connect: string, credentials?: ZkCredentials): Promise<ZkClient> {
  const zk = new ZkClient({ connect, sessionTimeoutMs: 4000, credentials, logger: silentLogger() });
  await zk.start();
  return zk;
}

/** A worker of the test fleet; `credentials` null: none. */
export function fleetWorker(connect: string, namespace: string, id: string, jobs: JobDefinition[], credentials: ZkCredentials | null = FLEET, extra: Partial<ConstructorParameters<typeof Worker>[0]> = {}): Worker {
  return new Worker({
    connect,
    namespace,
    sessionTimeoutMs: 4000,
    id,
    credentials: credentials ?? undefined,
    acl: EXTRA_ACL,
    jobs: jobs.map((definition) => ({ definition, overwrite: false })),
    baseDir: tmpdir(),
    logger: silentLogger(),
    ...extra,
  });
}

/** Every node of a subtree, parents first. */
export async function walk(zk: ZkClient, path: string): Promise<string[]> {
  const out = [path];
  for (const child of await zk.getChildren(path)) out.push(...(await walk(zk, `${path}/${child}`)));
  return out;
}

/** Deletes a subtree, children first (ignores what is gone). */
export async function removeTree(zk: ZkClient, path: string): Promise<void> {
  const children = await zk.getChildren(path).catch(() => [] as string[]);
  await Promise.all(children.map((c) => removeTree(zk, `${path}/${c}`)));
  await zk.remove(path).catch(() => undefined);
}

export { digestId };
