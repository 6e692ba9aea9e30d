import type { ZkClient } from '../zk/zk-client.js';
import { formatAcl, isOpenAcl, sameAcl, type ZkAcl } from '../zk/zk-acl.js';
import { NoNodeError } from '../zk/zk-errors.js';

/** How many nodes are read at once while walking a namespace. */
export const ACL_WALK_CONCURRENCY = 32;

/** A node whose ACL is not the policy (`zkctl acl audit --json` prints a list of these). */
export interface AclFinding {
  path: string;
  /** The node grants `world:anyone`. */
  open: boolean;
  /** Its ACL, in ZooKeeper's form (`digest:<user>:<hash>:<perms>`; hashes read as `x` without ADMIN). */
  acl: string[];
  /** The node's ACL version (`aversion`), for a version-checked `setAcl`. */
  aclVersion: number;
}

/** The result of an audit. */
export interface AclAudit {
  /** Nodes looked at. */
  nodes: number;
  /** Nodes that differ from the policy, open ones first, then by path. */
  findings: AclFinding[];
}

/**
 * Walks every node under `root` (the root included) and reports those whose ACL differs from
 * `policy`; without a policy, only the open ones. Nodes that vanish meanwhile are skipped.
 */
export async function auditAcl(zk: ZkClient, root: string, policy?: readonly ZkAcl[]): Promise<AclAudit> {
  const findings: AclFinding[] = [];
  let nodes = 0;
  await walkNamespace(zk, root, async (path) => {
    const { acl, stat } = await zk.getAcl(path);
    nodes++;
    const open = isOpenAcl(acl);
    if (open || (policy !== undefined && !sameAcl(acl, policy))) findings.push({ path, open, acl: acl.map(formatAcl), aclVersion: stat.aversion });
  });
  findings.sort((a, b) => Number(b.open) - Number(a.open) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { nodes, findings };
}

/**
 * Visits `root` and every node under it, parents before their children, {@link ACL_WALK_CONCURRENCY}
 * at a time. A node deleted during the walk is skipped.
 */
export async function walkNamespace(zk: ZkClient, root: string, visit: (path: string) => Promise<void>): Promise<void> {
  let level = [root];
  while (level.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += ACL_WALK_CONCURRENCY) {
      await Promise.all(
        level.slice(i, i + ACL_WALK_CONCURRENCY).map(async (path) => {
          try {
            await visit(path);
            for (const child of await zk.getChildren(path)) next.push(`${path === '/' ? '' : path}/${child}`);
          } catch (err) {
            if (!(err instanceof NoNodeError)) throw err;
          }
        }),
      );
    }
    level = next;
  }
}
