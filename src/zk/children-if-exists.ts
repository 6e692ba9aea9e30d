import type { ZkSession } from './zk-session.js';
import { NoNodeError } from './zk-errors.js';

/** Children of a node, or [] when the node does not exist. */
export async function childrenIfExists(zk: Pick<ZkSession, 'getChildren'>, path: string): Promise<string[]> {
  try {
    return await zk.getChildren(path);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}
