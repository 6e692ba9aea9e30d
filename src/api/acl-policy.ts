import type { ZkClient } from '../zk/zk-client.js';
import { hasMaskedDigest, isOpenAcl, OPEN_ACL, type ZkAcl } from '../zk/zk-acl.js';
import { notAuthorizedIn } from '../zk/zk-errors.js';

/** How the namespace root is protected, as one client sees it. */
export type NamespaceAcl =
  | { kind: 'missing' }
  | { kind: 'open'; acl: ZkAcl[] }
  | { kind: 'secured'; acl: ZkAcl[]; masked: boolean }
  /** This identity may not even read the root's ACL. */
  | { kind: 'hidden' };

/** Reads the root's ACL. */
export async function readNamespaceAcl(zk: ZkClient, root: string): Promise<NamespaceAcl> {
  if ((await zk.exists(root)) === null) return { kind: 'missing' };
  try {
    const { acl } = await zk.getAcl(root);
    return isOpenAcl(acl) ? { kind: 'open', acl } : { kind: 'secured', acl, masked: hasMaskedDigest(acl) };
  } catch (err) {
    if (notAuthorizedIn(err)) return { kind: 'hidden' };
    throw err;
  }
}

/**
 * Sets the ACL an operator's client (zkctl, the console) gives the nodes it creates: the namespace
 * root's own ACL, which is the fleet's policy (the fleet identity, operators, viewers). An open
 * root gives open nodes, like the fleet's. When the policy cannot be learnt — the root's digest
 * hashes come back masked (no ADMIN right), or the namespace does not exist yet and the client has
 * credentials — creates are refused with a clear reason rather than made with an ACL that would
 * lock the fleet out of them.
 */
export async function resolveNamespaceAcl(zk: ZkClient, root: string): Promise<NamespaceAcl> {
  const ns = await readNamespaceAcl(zk, root);
  switch (ns.kind) {
    case 'open':
      zk.useAcl(OPEN_ACL);
      break;
    case 'secured':
      if (ns.masked) zk.refuseCreates(`creating nodes takes the operator rights (cdrwa) on ${root}: without ADMIN (a) the ACL policy new nodes need cannot be read`);
      else zk.useAcl(ns.acl);
      break;
    case 'missing':
      if (zk.authenticated) zk.refuseCreates(`namespace ${root} does not exist; start a worker with the fleet's credentials first, or create it with \`zkctl acl apply --config <worker config>\``);
      else zk.useAcl(OPEN_ACL);
      break;
    case 'hidden':
      break;
  }
  return ns;
}
