import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { LEDGER_PARTS, ledgerPartOf } from '../model/member-ledger.js';
import { readLedgerPartNode } from './read-ledger-node.js';
import type { LedgerPartRead } from '../model/ledger-view.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import type { LedgerListing } from './list-ledgers.js';

/** The job's part of every ledger listed; those that could not be read as a ledger, apart. */
export interface JobLedgers {
  parts: LedgerPartRead[];
  /** Parts left out: what is wrong, and the mzxid of the write that made them so. */
  unreadable: Array<{ error: MalformedDataError; mzxid: bigint }>;
}

/**
 * Reads `job`'s part of every member's ledger in `listing` (`listLedgers`: read before, so that a
 * ledger of a member not live never changes again), one read each. A part that does not exist is
 * an empty one.
 */
export async function readJobLedgers(zk: Pick<ZkSession, 'getDataIfExists'>, paths: ZkPaths, job: string, listing: LedgerListing, partCount = LEDGER_PARTS): Promise<JobLedgers> {
  const k = ledgerPartOf(job, partCount);
  const out: JobLedgers = { parts: [], unreadable: [] };
  const read = await Promise.all(
    listing.ledgers.map(async (member) => {
      const path = paths.ledgerPart(member, k);
      const found = await readLedgerPartNode(zk, path);
      return { member, mzxid: found?.stat.mzxid ?? 0n, part: found ? found.part : { ok: true as const, value: new Map() } };
    }),
  );
  for (const { member, mzxid, part } of read) {
    if (part.ok) out.parts.push({ member, live: listing.live.has(member), mzxid, entries: part.value });
    else out.unreadable.push({ error: part.error, mzxid });
  }
  return out;
}
