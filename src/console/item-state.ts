import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { NodeSnapshot } from '../zk/node-cache.js';

/**
 * An item's nodes as the console knows them: its progress record (null: no such node). Whether it
 * runs is the members' ledgers' to say (`LedgerStore`).
 */
export interface ItemState {
  progress: NodeSnapshot | null;
}

/** Reads an item's progress record (no watch). */
export async function readItemState(zk: ZkClient, paths: ZkPaths, job: string, item: number): Promise<ItemState> {
  return { progress: await zk.getDataIfExists(paths.item(job, item)) };
}

/** Whether two reads of an item found the same nodes (same versions). */
export function sameItemState(a: ItemState | undefined, b: ItemState): boolean {
  if (!a) return false;
  const x = a.progress;
  const y = b.progress;
  return x === null || y === null ? x === y : x.stat.mzxid === y.stat.mzxid && x.stat.czxid === y.stat.czxid;
}
