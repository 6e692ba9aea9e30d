import type { ZkClient } from '../../src/zk/zk-client.js';
import { epochNow } from './run-recorder.js';

/** A watch on a member node, armed. */
export interface MemberWatch {
  /**
   * When ZooKeeper recorded the node's next change: its mtime when it can still be read, else the
   * moment the watch fired (ms since the epoch); undefined when the node was already gone.
   */
  changedAt: Promise<number | undefined>;
}

/**
 * Watches a member node for its next change (a leaving worker announcing `draining`, or its
 * deletion); resolves once the watch is armed.
 */
export async function watchMemberChange(zk: ZkClient, path: string): Promise<MemberWatch> {
  let report: (at: number | undefined) => void = () => {};
  const changed = new Promise<number | undefined>((resolve) => (report = resolve));
  const armed = await zk
    .getDataIfExists(path, () => {
      const firedAt = epochNow();
      zk.getDataIfExists(path).then(
        (found) => report(found ? found.stat.mtime : firedAt),
        () => report(firedAt),
      );
    })
    .catch(() => null);
  if (!armed) report(undefined);
  return { changedAt: changed };
}

/** When ZooKeeper created a member node (its ctime), or undefined when it is gone. */
export async function memberCreatedAt(zk: ZkClient, path: string): Promise<number | undefined> {
  const found = await zk.getDataIfExists(path).catch(() => null);
  return found?.stat.ctime;
}
