import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { ZkTransaction } from '../zk/zk-transaction.js';
import { listLedgers } from '../membership/list-ledgers.js';
import { encodeLedgerPart, LEDGER_PARTS, ledgerPartOf, readLedgerPart, withTokens } from '../model/member-ledger.js';

/**
 * Adds to `tx`, for every live member's ledger that names items of `job` the operator removes
 * (`items`, or every item with 'all'), a write of its part without them, checked at the version
 * read (run protocol v2, point 6 of docs/design/run-protocol-v2.md): a run in flight there no
 * longer holds the item (a forced `remove` or `reshard`, which also fences its member), and a claim
 * of an item that is gone says nothing of an item made later under its name. A live member's
 * writes of its part since the read make `tx` fail (`BadVersionError` on that part: read again).
 * A gone member's ledger never changes again; the records of the items made later supersede it.
 * Returns the parts written.
 */
export async function clearFromLedgers(
  zk: Pick<ZkSession, 'getChildren' | 'getDataIfExists'>,
  tx: ZkTransaction,
  paths: ZkPaths,
  job: string,
  items: ReadonlySet<number> | 'all',
): Promise<string[]> {
  const { ledgers, live } = await listLedgers(zk, paths);
  const k = ledgerPartOf(job, LEDGER_PARTS);
  const written: string[] = [];
  for (const member of ledgers.filter((m) => live.has(m)).sort()) {
    const path = paths.ledgerPart(member, k);
    const found = await zk.getDataIfExists(path);
    if (!found) continue;
    const part = readLedgerPart(found.data, path);
    // Unreadable: its member writes it anew from what it knows; the records decide meanwhile.
    if (!part.ok) continue;
    const entry = part.value.get(job);
    if (!entry) continue;
    const named = (i: number): boolean => items === 'all' || items.has(i);
    if (![...entry.b].some(named) && ![...entry.f.keys()].some(named)) continue;
    if (items === 'all') part.value.delete(job);
    else {
      for (const i of items) {
        entry.b.delete(i);
        entry.f.delete(i);
      }
      if (entry.b.size === 0 && entry.f.size === 0) part.value.delete(job);
    }
    // Our write moves the part's mzxid: the runs its last write began keep their token written out.
    tx.setData(path, encodeLedgerPart(withTokens(part.value, found.stat.mzxid)), found.stat.version);
    written.push(path);
  }
  return written;
}
