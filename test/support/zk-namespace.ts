import { randomBytes } from 'node:crypto';

/**
 * A fresh root name for one test's znodes on the shared ZooKeeper: `t-<prefix>-<8 hex chars>`.
 * The prefix is lower-cased and anything outside `[a-z0-9-]` becomes `-`, so the result is a valid
 * single znode name and a valid zkshard namespace.
 */
export function uniqueNamespace(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `t-${clean === '' ? 'x' : clean}-${randomBytes(4).toString('hex')}`;
}
