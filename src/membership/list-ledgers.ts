import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { childrenIfExists } from '../zk/children-if-exists.js';

/** The members that have a ledger, and which members live. */
export interface LedgerListing {
  ledgers: string[];
  live: Set<string>;
}

/**
 * Lists the members' ledgers, then the live members (none read when there is no ledger). The
 * order is what makes the answer usable: a member makes its node before its ledger, so a ledger
 * whose member is missing from the later list belongs to a session that is over, and never
 * changes again (run protocol v2: the leader's sweep, takeovers, an operator's removal).
 */
export async function listLedgers(zk: Pick<ZkSession, 'getChildren'>, paths: ZkPaths): Promise<LedgerListing> {
  const ledgers = await childrenIfExists(zk, paths.ledgers);
  if (ledgers.length === 0) return { ledgers, live: new Set() };
  return { ledgers, live: new Set(await childrenIfExists(zk, paths.workers)) };
}
