import { ZkClient } from '../../src/zk/zk-client.js';
import { ZkPaths } from '../../src/zk/zk-paths.js';
import { decodeHistory, decodeProgress, type ProgressRecord } from '../../src/model/progress-record.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { zkConnect } from './zk-connect.js';
import { uniqueNamespace } from './zk-namespace.js';

/** Opens clients on the shared ZooKeeper and closes them all (and the test's namespace) at the end. */
export class ZkTestContext {
  readonly namespace: string;
  readonly paths: ZkPaths;
  private readonly clients: ZkClient[] = [];
  private sharedClient: Promise<ZkClient> | undefined;

  constructor(prefix: string) {
    this.namespace = uniqueNamespace(prefix);
    this.paths = new ZkPaths(this.namespace);
  }

  async client(options: { sessionTimeoutMs?: number; connect?: string } = {}): Promise<ZkClient> {
    const zk = new ZkClient({ connect: options.connect ?? zkConnect(), sessionTimeoutMs: options.sessionTimeoutMs ?? 4000, logger: silentLogger() });
    this.clients.push(zk);
    await zk.start();
    return zk;
  }

  /** One client shared by the whole test (use it in polls: opening one per poll exhausts the server's connection limit). */
  shared(): Promise<ZkClient> {
    this.sharedClient ??= this.client();
    return this.sharedClient;
  }

  /** Closes every client; removes the namespace's znodes. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    const admin = new ZkClient({ connect: zkConnect(), sessionTimeoutMs: 4000, logger: silentLogger() });
    try {
      await admin.start();
      await removeTree(admin, this.paths.root);
    } finally {
      await admin.close();
    }
  }
}

/** Deletes a subtree, children first. */
export async function removeTree(zk: ZkClient, path: string): Promise<void> {
  let children: string[];
  try {
    children = await zk.getChildren(path);
  } catch {
    return;
  }
  await Promise.all(children.map((c) => removeTree(zk, `${path}/${c}`)));
  await zk.remove(path).catch(() => undefined);
}

/** An item's progress record with its run history (stored in two nodes), as the API shows it. */
export async function readProgress(zk: ZkClient, paths: ZkPaths, job: string, item: number): Promise<ProgressRecord> {
  const [progress, history] = await Promise.all([zk.getDataIfExists(paths.item(job, item)), zk.getDataIfExists(paths.history(job, item))]);
  return { ...decodeProgress(progress?.data), recent: decodeHistory(history?.data) };
}
