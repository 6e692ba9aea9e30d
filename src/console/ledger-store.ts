import type { ZkPaths } from '../zk/zk-paths.js';
import { LEDGER_PARTS, ledgerPartOf } from '../model/member-ledger.js';
import type { JobLedgers } from '../membership/read-job-ledgers.js';
import type { LedgerNodeRead } from '../membership/read-ledger-node.js';

/** One part as kept: the node read with its index (`readLedgerPartNode`; null: none). */
interface KeptPart {
  node: LedgerNodeRead | null;
}

/**
 * The members' ledger parts as the console last read them — by its sweeps, or by the watches of
 * the jobs a browser has open — each decoded once per read, so that building the snapshot of
 * every job of a part costs no decoding of it. Which of an item's runs is in flight comes from
 * here (run protocol v2: a current entry's `f` bit, `model/ledger-view.ts`).
 */
export class LedgerStore {
  private readonly parts = new Map<string, KeptPart>();

  constructor(
    private readonly paths: ZkPaths,
    private readonly partCount = LEDGER_PARTS,
  ) {}

  /** The part `job` is kept in. */
  partOf(job: string): number {
    return ledgerPartOf(job, this.partCount);
  }

  /** Parts per member. */
  get partsPerMember(): number {
    return this.partCount;
  }

  /** Keeps a read of a member's part unless what is kept is as new; returns whether it changed. */
  put(member: string, part: number, node: LedgerNodeRead | null): boolean {
    const path = this.paths.ledgerPart(member, part);
    const kept = this.parts.get(path);
    if (kept) {
      const was = kept.node?.stat.mzxid;
      const now = node?.stat.mzxid;
      // The same write, or an older read than the one kept (a node gone is news).
      if (was === now || (was !== undefined && now !== undefined && was > now)) return false;
    }
    this.parts.set(path, { node });
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
      if (decoded.ok) out.parts.push({ member, live: live.has(member), mzxid, entries: decoded.value });
      else out.unreadable.push({ error: decoded.error, mzxid });
    }
    return out;
  }
}
