import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { aclUser, type ZkAcl } from '../zk/zk-acl.js';
import { BadVersionError, NoNodeError } from '../zk/zk-errors.js';
import { RequestError } from '../errors/request-error.js';
import { readMembers } from '../membership/read-members.js';
import { auditAcl, type AclFinding } from './acl-audit.js';

/** Passes `applyAcl` makes at most, each fixing what the one before left (nodes created meanwhile). */
export const MAX_APPLY_PASSES = 10;

export interface AclApplyOptions {
  /** Report what would change; change nothing. */
  dryRun?: boolean;
  /** Apply even though a live worker has no credentials (it will be locked out). */
  force?: boolean;
}

export interface AclApplyResult {
  dryRun: boolean;
  /** Nodes looked at in the first pass. */
  nodes: number;
  /** Nodes whose ACL was (or, in a dry run, would be) set, open ones first. */
  changed: AclFinding[];
  passes: number;
}

/**
 * Brings a namespace to `policy` while its fleet runs: every node that differs gets the policy
 * (version-checked `setAcl`), children before the root, and the root last; then the root's data is
 * touched, which tells every worker watching it to create nodes with the policy from then on
 * (`NamespaceAclFollower`). Passes repeat until one finds nothing left to change (a node created
 * open meanwhile), at most {@link MAX_APPLY_PASSES}.
 *
 * The migration order (docs/SECURITY.md) is checked: a live worker that runs without credentials
 * would be locked out — ElasticJob's wedge — so the apply is refused (nothing changed) unless `force`.
 * @throws RequestError REQUEST_CONFLICT naming the workers without credentials
 */
export async function applyAcl(zk: ZkClient, paths: ZkPaths, policy: readonly ZkAcl[], options: AclApplyOptions = {}): Promise<AclApplyResult> {
  const members = (await zk.exists(paths.workers)) === null ? [] : await readMembers(zk, paths);
  const policyUsers = new Set(policy.map(aclUser));
  const outsiders = members.filter((m) => m.info.identity === undefined || !policyUsers.has(m.info.identity));
  if (outsiders.length > 0 && !options.force) {
    const list = outsiders.map((m) => `${m.info.id} (${m.name}, ${m.info.identity ?? 'anonymous'})`).join(', ');
    throw new RequestError(
      'REQUEST_CONFLICT',
      `acl apply: ${outsiders.length} live ${outsiders.length === 1 ? 'worker runs' : 'workers run'} without an identity of the policy: ${list}. ` +
        'Give every worker the fleet credentials (ZKSHARD_ZK_AUTH or zookeeper.auth) and restart it first, or it would be locked out (docs/SECURITY.md); nothing changed',
    );
  }
  if (options.dryRun) {
    const audit = await auditAcl(zk, paths.root, policy);
    return { dryRun: true, nodes: audit.nodes, changed: audit.findings, passes: 0 };
  }
  if ((await zk.exists(paths.root)) === null) {
    zk.useAcl(policy);
    await zk.mkdirp(paths.root);
  }
  const changed = new Map<string, AclFinding>();
  let nodes = 0;
  for (let pass = 1; pass <= MAX_APPLY_PASSES; pass++) {
    const audit = await auditAcl(zk, paths.root, policy);
    if (pass === 1) nodes = audit.nodes;
    if (audit.findings.length === 0) return { dryRun: false, nodes, changed: [...changed.values()], passes: pass - 1 };
    const rootFinding = audit.findings.find((f) => f.path === paths.root);
    for (const f of audit.findings.filter((x) => x !== rootFinding)) {
      if (await setIfUnchanged(zk, f, policy)) changed.set(f.path, changed.get(f.path) ?? f);
    }
    if (rootFinding && (await setIfUnchanged(zk, rootFinding, policy))) {
      changed.set(rootFinding.path, changed.get(rootFinding.path) ?? rootFinding);
      // Wakes the workers' watch on the root: they create nodes with the policy from now on.
      const { data } = await zk.getData(paths.root);
      await zk.setData(paths.root, data);
    }
  }
  throw new RequestError('REQUEST_CONFLICT', `acl apply: nodes kept appearing with another ACL after ${MAX_APPLY_PASSES} passes (is a worker without credentials or an old version still creating them?)`);
}

/** Sets the policy unless the node's ACL changed since it was read (or it is gone): true when set. */
async function setIfUnchanged(zk: ZkClient, f: AclFinding, policy: readonly ZkAcl[]): Promise<boolean> {
  try {
    await zk.setAcl(f.path, policy, f.aclVersion);
    return true;
  } catch (err) {
    if (err instanceof NoNodeError || err instanceof BadVersionError) return false;
    throw err;
  }
}
