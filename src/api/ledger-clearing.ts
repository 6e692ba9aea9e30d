import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { ZkTransaction } from '../zk/zk-transaction.js';
import { listLedgers } from '../membership/list-ledgers.js';
import { encodeLedgerPart, LEDGER_PARTS, ledgerPartOf, withTokens } from '../model/member-ledger.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';

/** What `clearFromLedgers` added to a multi. */
export interface LedgerClearing {
  /** The ledger parts it writes. */
  written: string[];
  /** The live members' runs in flight on the removed items, by member and item (ascending). */
  running: Array<{ member: string; item: number }>;
  /** The members it fences (`fence`): those running them. */
  fenced: string[];
}

/**
 * Adds to `tx`, for every live member's ledger that names items of `job` the operator removes
 * (`items`, or every item with 'all'), a write of its part without them, checked at the version
 * read (run protocol v2, point 6 of docs/design/run-protocol-v2.md): a run in flight there no
 * longer holds the item, and a claim of an item that is gone says nothing of an item made later
 * under its name. With `fence`, the members whose runs it takes are fenced in the same multi (a
 * write of their member node, version-checked), so that every further write of those runs fails
 * its fence check and finds the run gone from its ledger. What it found running comes from the
 * very reads it writes from: a run begun after them changes the part, and the multi fails
 * (`BadVersionError` on that part, or on a member node a fence moved meanwhile: read again). A
 * gone member's ledger never changes again; the records of the items made later supersede it.
 */
export async function clearFromLedgers(
  zk: Pick<ZkSession, 'getChildren' | 'getDataIfExists'>,
  tx: ZkTransaction,
  paths: ZkPaths,
  job: string,
  items: ReadonlySet<number> | 'all',
  options: { fence?: boolean } = {},
): Promise<LedgerClearing> {
  const { ledgers, live } = await listLedgers(zk, paths);
  const k = ledgerPartOf(job, LEDGER_PARTS);
  const out: LedgerClearing = { written: [], running: [], fenced: [] };
  for (const member of ledgers.filter((m) => live.has(m)).sort()) {
    const path = paths.ledgerPart(member, k);
    const found = await readLedgerPartNode(zk, path);
    if (!found) continue;
    const part = found.part;
    // Unreadable: its member writes it anew from what it knows; the records decide meanwhile.
    if (!part.ok) continue;
    const entry = part.value.get(job);
    if (!entry) continue;
    const named = (i: number): boolean => items === 'all' || items.has(i);
    const running = [...entry.f.keys()].filter(named).sort((a, b) => a - b);
    if (![...entry.b, ...(entry.o?.keys() ?? [])].some(named) && running.length === 0) continue;
    if (items === 'all') part.value.delete(job);
    else {
      for (const i of items) {
        entry.b.delete(i);
        entry.o?.delete(i);
        entry.f.delete(i);
      }
      if (entry.b.size === 0 && !entry.o?.size && entry.f.size === 0) part.value.delete(job);
    }
    // Our write moves the part's mzxid: the runs its last write began keep their token written out.
    // Written in the first form, whole (no index: the member writes its index anew once it read it back).
    tx.setData(path, encodeLedgerPart(withTokens(part.value, found.stat.mzxid)), found.stat.version);
    out.written.push(path);
    for (const item of running) out.running.push({ member, item });
    if (running.length === 0 || !options.fence) continue;
    const node = await zk.getDataIfExists(paths.member(member));
    if (!node) continue; // gone meanwhile: its session is over, it writes nothing more
    tx.setData(paths.member(member), node.data, node.stat.version);
    out.fenced.push(member);
  }
  out.running.sort((a, b) => a.item - b.item || (a.member < b.member ? -1 : 1));
  return out;
}
