import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { listLedgers, type LedgerListing } from '../membership/list-ledgers.js';
import { ledgerPartOf } from '../model/member-ledger.js';
import { readJobLedgers } from '../membership/read-job-ledgers.js';
import type { LedgerPartRead } from '../model/ledger-view.js';

/** One round of reads: the ledgers and the members listed once, each part read at most once. */
interface Wave {
  /** Taken when the wave began: it serves the tickets taken before. */
  ticket: number;
  listing: Promise<LedgerListing>;
  parts: Map<number, Promise<LedgerPartsRead>>;
}

/** The job's part of every ledger listed; `complete` false when one of them could not be read as a ledger (left out). */
export interface LedgerPartsRead {
  parts: LedgerPartRead[];
  complete: boolean;
}

/**
 * The members' ledgers as takeovers read them (run protocol v2, step 3b): the job's part of every
 * member's ledger, read after the takeover saw the assignment that gives it the item. The
 * takeovers of one burst share the reads: a takeover takes a `ticket` when it starts and is served
 * by any round of reads begun after that, so 20,000 items taken over at once cost one listing and
 * one read per member and part, not one per item. The ledgers are listed before the members
 * (`listLedgers`): a ledger whose member is missing from the later list never changes again.
 */
export class LedgerReads {
  private tickets = 0;
  private wave: Wave | undefined;
  /** Malformed parts logged, by path, with the mzxid logged (once per version). */
  private readonly malformedSeen = new Map<string, bigint>();

  constructor(
    private readonly zk: Pick<ZkSession, 'getChildren' | 'getDataIfExists'>,
    private readonly paths: ZkPaths,
    /** Parts per ledger (`LEDGER_PARTS`). */
    private readonly partCount: number,
    private readonly log: Logger,
  ) {}

  /** A ticket: the reads that serve it begin after this call. */
  ticket(): number {
    return ++this.tickets;
  }

  /**
   * The job's part of every ledger listed, read after `ticket` was taken (shared with the other
   * takeovers waiting for the same part). A part that cannot be read as a ledger is left out
   * (logged), so the view it gives is incomplete: the caller decides from the records then.
   */
  read(job: string, ticket: number): Promise<LedgerPartsRead> {
    let wave = this.wave;
    if (!wave || wave.ticket <= ticket) wave = this.begin();
    const k = ledgerPartOf(job, this.partCount);
    const known = wave.parts.get(k);
    if (known) return known;
    const started = wave;
    const parts = this.readPart(started, job);
    started.parts.set(k, parts);
    // A round that failed serves nobody more: the next ticket begins a new one.
    parts.catch(() => {
      if (this.wave === started) this.wave = undefined;
    });
    return parts;
  }

  /** Drops what was read (no takeover is under way: the next one reads afresh). */
  clear(): void {
    this.wave = undefined;
  }

  private begin(): Wave {
    const listing = listLedgers(this.zk, this.paths);
    const wave: Wave = { ticket: ++this.tickets, listing, parts: new Map() };
    listing.catch(() => {
      if (this.wave === wave) this.wave = undefined;
    });
    this.wave = wave;
    return wave;
  }

  private async readPart(wave: Wave, job: string): Promise<LedgerPartsRead> {
    const { parts, unreadable } = await readJobLedgers(this.zk, this.paths, job, await wave.listing, this.partCount);
    for (const { error, mzxid } of unreadable) {
      if (this.malformedSeen.get(error.path) === mzxid) continue;
      this.malformedSeen.set(error.path, mzxid);
      this.log.warn({ err: error, path: error.path }, 'ledger part cannot be read: takeovers decide from the item records alone');
    }
    return { parts, complete: unreadable.length === 0 };
  }
}
