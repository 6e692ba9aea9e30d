import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { listLedgers, type LedgerListing } from '../membership/list-ledgers.js';
import { ledgerPartOf } from '../model/member-ledger.js';
import { readJobLedgers } from '../membership/read-job-ledgers.js';
import type { LedgerPartRead } from '../model/ledger-view.js';

/** One round of reads: the ledgers and the members listed once, each part read at most once. */
interface Wave {
  /** Taken when the wave began (its listing was asked for): it serves the tickets taken before. Unset while it waits. */
  ticket: number | undefined;
  listing: Promise<LedgerListing>;
  parts: Map<number, Promise<LedgerPartsRead>>;
  /** Reads asked for and not settled (the listing and each part). */
  unsettled: number;
  /** A read of it failed: it serves nobody more. */
  failed: boolean;
  /** The wave that begins once this one is done: it serves the takeovers that started meanwhile. */
  next: Wave | undefined;
  /** Lets a waiting wave's listing be asked for (called by `begin`). */
  start: () => void;
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
  /** The wave new takeovers are served by, or followed by. */
  private current: Wave | undefined;
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
   *
   * At most one wave reads and one waits: a takeover that starts while a wave reads is served by
   * the wave that begins once that one is done, with every other takeover that started meanwhile
   * (while workers are lost one after another, takeovers start all the time, and a wave begun for
   * each read the same ledgers over and over, without bound).
   */
  read(job: string, ticket: number): Promise<LedgerPartsRead> {
    const wave = this.waveFor(ticket);
    const k = ledgerPartOf(job, this.partCount);
    const known = wave.parts.get(k);
    if (known) return known;
    const parts = this.readPart(wave, job);
    wave.parts.set(k, parts);
    this.track(wave, parts);
    return parts;
  }

  /** Drops what was read (no takeover is under way: the next one reads afresh). */
  clear(): void {
    // A wave still reading lets its successor (if any) begin when it is done, as ever.
    this.current = undefined;
  }

  private waveFor(ticket: number): Wave {
    const current = this.current;
    if (!current) return (this.current = this.begin(this.wave()));
    if (!current.failed && current.ticket !== undefined && ticket < current.ticket) return current;
    if (current.unsettled === 0) return (this.current = this.begin(this.wave()));
    return (current.next ??= this.wave());
  }

  /** A wave not begun yet: its listing is asked for by `begin`. */
  private wave(): Wave {
    let start!: () => void;
    const gate = new Promise<void>((resolve) => (start = resolve));
    const wave: Wave = { ticket: undefined, listing: gate.then(() => listLedgers(this.zk, this.paths)), parts: new Map(), unsettled: 0, failed: false, next: undefined, start };
    this.track(wave, wave.listing);
    return wave;
  }

  /** Begins `wave`'s reads: from here on they serve every ticket taken before. */
  private begin(wave: Wave): Wave {
    wave.ticket = ++this.tickets;
    wave.start();
    return wave;
  }

  /** Counts a read of `wave` until it settles; the last one to settle begins the wave waiting after it. */
  private track(wave: Wave, read: Promise<unknown>): void {
    wave.unsettled++;
    read.then(
      () => this.settled(wave),
      () => {
        // A wave that failed serves nobody more: the next ticket is served by another.
        wave.failed = true;
        this.settled(wave);
      },
    );
  }

  private settled(wave: Wave): void {
    if (--wave.unsettled > 0 || !wave.next) return;
    const next = wave.next;
    wave.next = undefined;
    if (this.current === wave) this.current = next;
    this.begin(next);
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
