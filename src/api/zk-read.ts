import type { ZkClient } from '../zk/zk-client.js';
import type { ZkStat } from '../zk/zk-stat.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import { childPath } from '../zk/zk-paths.js';

/** How many ZooKeeper reads the operator API keeps in flight at once. */
export const READ_CONCURRENCY = 64;

/** `Promise.all(items.map(fn))` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>, limit = READ_CONCURRENCY): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}


/** One node of a subtree read by {@link readSubtree}. */
export interface ZnodeEntry {
  path: string;
  /** Distance from the subtree's root (0 for the root). */
  depth: number;
  data: Buffer;
  stat: ZkStat;
  children: string[];
}

/**
 * Reads a subtree (data, stat and children of every node) breadth first, down to `maxDepth`
 * (children of nodes at `maxDepth` are listed but not read). Nodes deleted while reading are left
 * out. Returns `[]` when the root does not exist. Parents come before their children.
 */
export async function readSubtree(zk: ZkClient, root: string, maxDepth = Number.POSITIVE_INFINITY): Promise<ZnodeEntry[]> {
  const out: ZnodeEntry[] = [];
  let level = [root];
  for (let depth = 0; level.length > 0; depth++) {
    const read = await mapLimit(level, async (path) => {
      const found = await zk.getDataIfExists(path);
      if (!found) return undefined;
      const children = found.stat.numChildren > 0 ? await childrenIfExists(zk, path) : [];
      return { path, depth, data: found.data, stat: found.stat, children: sortNames(children) };
    });
    const present = read.filter((e): e is ZnodeEntry => e !== undefined);
    out.push(...present);
    level = depth >= maxDepth ? [] : present.flatMap((e) => e.children.map((c) => childPath(e.path, c)));
  }
  return out;
}

/** Names in a natural order: numbers by value (`2` before `10`), sequential nodes by sequence, then text. */
export function sortNames(names: readonly string[]): string[] {
  const key = (n: string): [number, string] => {
    const m = /(\d+)$/.exec(n);
    return [m ? Number(m[1]) : Number.NaN, m ? n.slice(0, -m[1]!.length) : n];
  };
  return [...names].sort((a, b) => {
    const [na, pa] = key(a);
    const [nb, pb] = key(b);
    const aNum = /^\d+$/.test(a);
    const bNum = /^\d+$/.test(b);
    if (aNum && bNum) return na - nb;
    if (aNum !== bNum) return aNum ? 1 : -1;
    if (/^m-[0-9a-f]+-\d{10}$/.test(a) && /^m-[0-9a-f]+-\d{10}$/.test(b)) return na - nb;
    return pa === pb && !Number.isNaN(na) && !Number.isNaN(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
  });
}
