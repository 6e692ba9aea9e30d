import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ledgerPartOf, type LedgerPart } from '../model/member-ledger.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';
import { keyOf } from './job-state.js';

/** Who runs an item a takeover found running elsewhere: a live member whose ledger has it in flight. */
export type RunElsewhere = { member: string };

/** One ledger part watched for the items waiting on runs in it. */
interface PartWatch {
  member: string;
  path: string;
  /** Items waiting, by key. */
  waiting: Map<string, { job: string; item: number }>;
  /** The part as last read (undefined before the first answer); null: gone or unreadable. */
  last: LedgerPart | null | undefined;
}

/**
 * Items a takeover found running on another member, each watched until that run is over; then
 * `ended` asks for the item's next takeover round. One wait per item, so one run's end means one
 * round. A run the ledgers showed (run protocol v2, step 4a) is over once its member's ledger part
 * no longer has the item in flight (its release), or its member node is gone (its session ended:
 * the run was cut short, and the next round re-runs it).
 *
 * A member writes its ledger part at every instant one of the part's jobs fires: the items waiting
 * on one part share one watch and one read per change of it (a read per waiting item per change
 * would cost thousands of reads a second when many items wait on long runs), and those waiting on
 * one member share one watch of its member node.
 */
export class RunWaits {
  private readonly watching = new Set<string>();
  private readonly parts = new Map<string, PartWatch>();
  /** Per member whose node is watched, the paths of its parts watched. */
  private readonly members = new Map<string, { paths: Set<string> }>();

  constructor(
    private readonly zk: Pick<ZkSession, 'getDataIfExists' | 'exists'>,
    private readonly paths: ZkPaths,
    /** Parts per ledger (`LEDGER_PARTS`). */
    private readonly partCount: number,
    /** The run on the item (`job`, `item`) may be over: take it over again (if still ours). */
    private readonly ended: (job: string, item: number) => void,
  ) {}

  /** Items waiting now. */
  get size(): number {
    return this.watching.size;
  }

  /** Whether the item (`job#item`) waits for a run elsewhere. */
  has(key: string): boolean {
    return this.watching.has(key);
  }

  /** Watches the item until the run `holder` has of it is over (nothing if it waits already). */
  wait(job: string, item: number, holder: RunElsewhere): void {
    const key = keyOf(job, item);
    if (this.watching.has(key)) return;
    this.watching.add(key);
    this.waitOnLedger(job, item, key, holder.member);
  }

  private waitOnLedger(job: string, item: number, key: string, member: string): void {
    const path = this.paths.ledgerPart(member, ledgerPartOf(job, this.partCount));
    let w = this.parts.get(path);
    if (w) {
      w.waiting.set(key, { job, item });
      // Its watch is armed since its last read: a change after that read comes as an event. One
      // before it is in what was read (the takeover's own read may be older): judged now.
      if (w.last !== undefined) this.settle(w);
      return;
    }
    w = { member, path, waiting: new Map([[key, { job, item }]]), last: undefined };
    this.parts.set(path, w);
    this.readPart(w);
    let watched = this.members.get(member);
    if (!watched) {
      this.members.set(member, (watched = { paths: new Set() }));
      this.watchMember(member, watched);
    }
    watched.paths.add(path);
  }

  /** Reads the part with a watch that reads it again at its next change, while anyone waits on it. */
  private readPart(w: PartWatch): void {
    const current = (): boolean => this.parts.get(w.path) === w;
    void readLedgerPartNode(this.zk, w.path, () => {
      if (current()) this.readPart(w);
    })
      .then((found) => {
        if (!current()) return;
        const part = found?.part;
        w.last = part?.ok ? part.value : null;
        this.settle(w);
      })
      .catch(() => {
        // Not known: every wait on it ends (the next rounds read again).
        if (!current()) return;
        w.last = null;
        this.settle(w);
      });
  }

  /** Ends the waits of the items no longer in flight in the part as last read (all, if it is gone or unreadable). */
  private settle(w: PartWatch): void {
    for (const [key, { job, item }] of w.waiting) {
      if (w.last?.get(job)?.f.has(item)) continue;
      this.end(w, key, job, item);
    }
  }

  private end(w: PartWatch, key: string, job: string, item: number): void {
    w.waiting.delete(key);
    if (w.waiting.size === 0) {
      this.parts.delete(w.path);
      const watched = this.members.get(w.member);
      watched?.paths.delete(w.path);
      if (watched?.paths.size === 0) this.members.delete(w.member);
    }
    this.watching.delete(key);
    this.ended(job, item);
  }

  /** Ends every wait on the member's runs once its node is deleted (a fence's write of it is no end: watched again). */
  private watchMember(member: string, watched: { paths: Set<string> }): void {
    const path = this.paths.member(member);
    // A watch of an earlier wait on this member (all of whose items ended since) does nothing.
    const current = (): boolean => this.members.get(member) === watched;
    const gone = (): void => {
      if (!current()) return;
      this.members.delete(member);
      for (const partPath of [...watched.paths]) {
        const w = this.parts.get(partPath);
        if (w) for (const [key, { job, item }] of [...w.waiting]) this.end(w, key, job, item);
      }
    };
    void this.zk
      .exists(path, (event) => {
        if (event.type === 'deleted') gone();
        else if (current()) this.watchMember(member, watched);
      })
      .then((stat) => {
        if (stat === null) gone();
      })
      .catch(gone);
  }
}
