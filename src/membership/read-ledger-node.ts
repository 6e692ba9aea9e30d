import type { ZkSession } from '../zk/zk-session.js';
import type { ZkWatcher } from '../zk/zk-watch-event.js';
import type { ZkStat } from '../zk/zk-stat.js';
import { childPath, LEDGER_INDEX_NODE } from '../zk/zk-paths.js';
import type { Decoded } from '../model/decoded.js';
import type { LedgerPart } from '../model/member-ledger.js';
import { indexVersionOf, readLedgerIndex, readLedgerNode } from '../model/positional-ledger.js';

/** A ledger part as read from ZooKeeper: its node (data and stat) and what it says. */
export interface LedgerNodeRead {
  data: Buffer;
  stat: ZkStat;
  part: Decoded<LedgerPart>;
}

/** Times a part and its index are read again when a write came between them. */
const READ_TRIES = 5;

/**
 * Reads a ledger part, and its index when it is in the positional form
 * (`model/positional-ledger.ts`): the part first (with `watcher`, if given), then the index; when
 * the index is not the version the part was written against, a write came between the two reads,
 * and both are read again (a few times; then the part reads as malformed, as it cannot be read
 * whole). Null: the part does not exist.
 */
export async function readLedgerPartNode(zk: Pick<ZkSession, 'getDataIfExists'>, path: string, watcher?: ZkWatcher): Promise<LedgerNodeRead | null> {
  for (let tries = 1; ; tries++) {
    const node = await zk.getDataIfExists(path, tries === 1 ? watcher : undefined);
    if (!node) return null;
    const iv = indexVersionOf(node.data);
    if (iv === undefined) return { ...node, part: readLedgerNode(node.data, path) };
    const found = await zk.getDataIfExists(childPath(path, LEDGER_INDEX_NODE));
    if (found?.stat.version === iv || tries >= READ_TRIES) return { ...node, part: ledgerPartOfNodes(node.data, path, found ? { data: found.data, version: found.stat.version } : undefined) };
  }
}

/**
 * The same from nodes at hand (a snapshot, the simulation's server): `indexNode` is the part's
 * index node, if it exists.
 */
export function ledgerPartOfNodes(data: Buffer | undefined, path: string, indexNode: { data?: Buffer; version: number } | undefined): Decoded<LedgerPart> {
  if (indexVersionOf(data) === undefined) return readLedgerNode(data, path);
  const indexPath = childPath(path, LEDGER_INDEX_NODE);
  return readLedgerNode(data, path, indexNode && { version: indexNode.version, index: readLedgerIndex(indexNode.data, indexPath) });
}
