import type { ZkPaths } from '../zk/zk-paths.js';
import { LEDGER_PARTS, ledgerPartOf, type LedgerEntry } from '../model/member-ledger.js';
import type { JobLedgers } from '../membership/read-job-ledgers.js';
import type { LedgerNodeRead } from '../membership/read-ledger-node.js';

/** One part as kept: the node read with its index (`readLedgerPartNode`; null: none). */
interface KeptPart {
  node: LedgerNodeRead | null;
  /** Where its read came in the order of reads (`nextReadSeq`). */
  readSeq?: number;
}

/**
 * The members' ledger parts as the console last read them — by its sweeps, or by the watches of
 * the jobs a browser has open — each decoded once per read, so that building the snapshot of
 * every job of a part costs no decoding of it. Which of an item's runs is in flight comes from
 * here (run protocol v2: a current entry's `f` bit, `model/ledger-view.ts`).
 */
export class LedgerStore {
  private readonly parts = new Map<string, KeptPart>();
  private reads = 0;

  constructor(
    private readonly paths: ZkPaths,
    private readonly partCount = LEDGER_PARTS,
  ) {}

  /**
   * A number for a read about to be sent, greater than every one given before: on one session,
   * a read sent after another is answered from a state at least as new (ZooKeeper answers a
   * session's requests in order), so a record read with a greater number than a part's is at
   * least as new as that part (see `ledgerSuccessOf`).
   */
  nextReadSeq(): number {
    return ++this.reads;
  }

  /** The part `job` is kept in. */
  partOf(job: string): number {
    return ledgerPartOf(job, this.partCount);
  }

  /** Parts per member. */
  get partsPerMember(): number {
    return this.partCount;
  }

  /**
   * The runs of `job` in flight in `member`'s part as kept that `node`, a newer read of that part,
   * no longer has in flight (ended, or gone with the entry): items, ascending. Their records read
   * after `node` say how they ended (see `ledgerSuccessOf`).
   */
  flightsEnded(member: string, job: string, node: LedgerNodeRead | null): number[] {
    const before = entryOf(this.parts.get(this.paths.ledgerPart(member, this.partOf(job)))?.node ?? null, job);
    if (!before || before.f.size === 0) return [];
    const after = entryOf(node, job);
    return [...before.f].filter(([item, flight]) => after?.f.get(item)?.fireMs !== flight.fireMs).map(([item]) => item).sort((a, b) => a - b);
  }

  /** Keeps a read of a member's part (sent as `readSeq`) unless what is kept is as new; returns whether it changed. */
  put(member: string, part: number, node: LedgerNodeRead | null, readSeq?: number): boolean {
    const path = this.paths.ledgerPart(member, part);
    const kept = this.parts.get(path);
    if (kept) {
      const was = kept.node?.stat.mzxid;
      const now = node?.stat.mzxid;
      // The same write, or an older read than the one kept (a node gone is news).
      if (was === now || (was !== undefined && now !== undefined && was > now)) return false;
    }
    this.parts.set(path, { node, readSeq });
    return true;
  }

  /** Forgets the parts of ledgers not in `members` (removed by the leader's sweep); returns whether it forgot any. */
  retain(members: ReadonlySet<string>): boolean {
    const prefix = `${this.paths.ledgers}/`;
    let forgot = false;
    for (const path of this.parts.keys()) {
      const member = path.slice(prefix.length).split('/')[0]!;
      if (!members.has(member)) forgot = this.parts.delete(path) || forgot;
    }
    return forgot;
  }

  /** `job`'s part of the ledger of each of `members`, as kept (one never read counts as empty). */
  jobLedgers(job: string, members: readonly string[], live: ReadonlySet<string>): JobLedgers {
    const k = this.partOf(job);
    const out: JobLedgers = { parts: [], unreadable: [] };
    for (const member of members) {
      const path = this.paths.ledgerPart(member, k);
      const kept = this.parts.get(path);
      if (!kept) continue;
      const mzxid = kept.node?.stat.mzxid ?? 0n;
      const decoded = kept.node?.part ?? { ok: true as const, value: new Map() };
      if (decoded.ok) out.parts.push({ member, live: live.has(member), mzxid, entries: decoded.value, readSeq: kept.readSeq ?? Number.MAX_SAFE_INTEGER });
      else out.unreadable.push({ error: decoded.error, mzxid });
    }
    return out;
  }
}

/** `job`'s entry in a part as read (undefined: no part, no entry, or a part that does not decode). */
function entryOf(node: LedgerNodeRead | null, job: string): LedgerEntry | undefined {
  return node?.part.ok ? node.part.value.get(job) : undefined;
}
