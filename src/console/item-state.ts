import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { ZkWatcher } from '../zk/zk-watch-event.js';
import type { NodeSnapshot } from '../zk/node-cache.js';
import { decodeProgress } from '../model/progress-record.js';

/** An item's nodes as the console knows them: its progress record and its running marker (null: no such node). */
export interface ItemState {
  progress: NodeSnapshot | null;
  marker: NodeSnapshot | null;
}

/**
 * Whether the item's running marker may exist, judged from its progress record: a worker creates
 * the marker in the same transaction that sets `inFlight`, and removes it in the one that clears
 * it (or marks it interrupted). A marker can outlive that only until its session ends.
 */
export function markerExpected(progress: NodeSnapshot | null): boolean {
  if (!progress) return false;
  const flight = decodeProgress(progress.data).inFlight;
  return flight !== undefined && flight !== null && flight.interrupted !== true;
}

/**
 * Reads a running marker existence-first: an `exists` (no error when it is gone), then its data
 * only when it is there (`watcher` on that read: it fires when the marker goes). A marker is
 * short-lived: reading its data first would mostly end in a NoNode error.
 */
export async function readMarkerNode(zk: ZkClient, path: string, watcher?: ZkWatcher): Promise<NodeSnapshot | null> {
  if ((await zk.exists(path)) === null) return null;
  return zk.getDataIfExists(path, watcher);
}

/** Reads an item's progress record, then its marker when the record says a run holds it (no watches). */
export async function readItemState(zk: ZkClient, paths: ZkPaths, job: string, item: number): Promise<ItemState> {
  const progress = await zk.getDataIfExists(paths.item(job, item));
  const marker = markerExpected(progress) ? await readMarkerNode(zk, paths.running(job, item)) : null;
  return { progress, marker };
}

/** Whether two reads of an item found the same nodes (same versions). */
export function sameItemState(a: ItemState | undefined, b: ItemState): boolean {
  if (!a) return false;
  const same = (x: NodeSnapshot | null, y: NodeSnapshot | null) => (x === null || y === null ? x === y : x.stat.mzxid === y.stat.mzxid && x.stat.czxid === y.stat.czxid);
  return same(a.progress, b.progress) && same(a.marker, b.marker);
}
