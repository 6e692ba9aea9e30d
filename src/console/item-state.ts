import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { NodeSnapshot } from '../zk/node-cache.js';

/**
 * An item's nodes as the console knows them: its progress record (null: no such node). Whether it
 * runs is the members' ledgers' to say (`LedgerStore`).
 */
export interface ItemState {
  progress: NodeSnapshot | null;
  /** Where the read came in the console's order of reads (`LedgerStore.nextReadSeq`); undefined: unknown (a watch's). */
  readSeq?: number;
}

/** Reads an item's progress record (no watch); `readSeq`: where this read comes in the order of reads. */
export async function readItemState(zk: ZkClient, paths: ZkPaths, job: string, item: number, readSeq?: number): Promise<ItemState> {
  return { progress: await zk.getDataIfExists(paths.item(job, item)), readSeq };
}

/** Whether two reads of an item found the same nodes (same versions). */
export function sameItemState(a: ItemState | undefined, b: ItemState): boolean {
  if (!a) return false;
  const x = a.progress;
  const y = b.progress;
  return x === null || y === null ? x === y : x.stat.mzxid === y.stat.mzxid && x.stat.czxid === y.stat.czxid;
}

/**
 * Whether `next` says more of the item than `known`: a later write of the same node, a node made
 * anew, one gone (or come), or the same write read later in the order of reads. Reads that
 * overtake each other (a watch's, and those made after a ledger part) never put an older write back.
 */
export function newerItemState(known: ItemState, next: ItemState): boolean {
  const a = known.progress;
  const b = next.progress;
  if (a === null || b === null) return a !== b || (next.readSeq ?? -1) > (known.readSeq ?? -1);
  if (b.stat.czxid !== a.stat.czxid) return b.stat.czxid > a.stat.czxid;
  return b.stat.mzxid > a.stat.mzxid || (b.stat.mzxid === a.stat.mzxid && (next.readSeq ?? -1) > (known.readSeq ?? -1));
}
