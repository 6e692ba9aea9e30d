import type { ZkSession } from '../../src/zk/zk-session.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { LEDGER_PARTS, ledgerPartOf, type LedgerFlight } from '../../src/model/member-ledger.js';
import { readLedgerPartNode } from '../../src/membership/read-ledger-node.js';
import { childrenIfExists } from '../../src/zk/children-if-exists.js';

/** The run of `job`'s `item` that `member`'s ledger has in flight, as stored now (run protocol v2: it holds the run). */
export async function flightIn(zk: Pick<ZkSession, 'getDataIfExists'>, paths: ZkPaths, member: string, job: string, item: number): Promise<LedgerFlight | undefined> {
  const path = paths.ledgerPart(member, ledgerPartOf(job, LEDGER_PARTS));
  const read = (await readLedgerPartNode(zk, path))?.part ?? { ok: true as const, value: new Map() };
  if (!read.ok) throw read.error;
  return read.value.get(job)?.f.get(item);
}

/** The members whose ledger has `job`'s `item` in flight now. */
export async function holdersOf(zk: Pick<ZkSession, 'getDataIfExists' | 'getChildren'>, paths: ZkPaths, job: string, item: number): Promise<string[]> {
  const out: string[] = [];
  for (const member of await childrenIfExists(zk, paths.ledgers)) if (await flightIn(zk, paths, member, job, item)) out.push(member);
  return out.sort();
}
