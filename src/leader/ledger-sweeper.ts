import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { childPath, type ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import { listLedgers } from '../membership/list-ledgers.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';
import { systemClock, type Timers, type TimerHandle } from '../clock/clock.js';
import { entryItems } from '../model/member-ledger.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';
import { readProgress } from '../model/progress-record.js';
import { supersedes } from '../model/ledger-view.js';

/** A gone member's ledger kept (something in it is still current) is looked at again after this. */
export const LEDGER_RECHECK_MS = 5000;
/** Item records the sweep reads at once, at most. */
const SWEEP_READS_MAX = 256;

/**
 * Removes the ledgers of members that are gone, once nothing in them is current (run protocol v2,
 * step 3: `model/ledger-view.ts`): every item a gone member's ledger names (claimed or in flight)
 * had its record written by another member since — its takeover, which read the ledger — or no
 * longer exists. A ledger still current is looked at again every `LEDGER_RECHECK_MS`. Run by the
 * leader when the members change. The ledgers are listed before the members (`listLedgers`): a
 * ledger whose member is missing from the later list will never be written again.
 */
export class LedgerSweeper {
  private readonly loop: RefreshLoop;
  private readonly timers: Timers;
  private recheck: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly log: Logger,
    retry?: RetryTiming,
  ) {
    this.timers = retry?.timers ?? systemClock;
    this.loop = new RefreshLoop(() => this.sweep(), {
      ...retry,
      deferred: true,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => this.log.warn({ err, delayMs }, 'could not remove the ledgers of members gone; retrying'),
    });
  }

  /** Asks for a sweep soon (a burst of member changes costs one); resolves once a sweep asked for by it ended. */
  schedule(): Promise<void> {
    return this.closed ? Promise.resolve() : this.loop.request().catch(() => undefined);
  }

  /** Stops it: no sweep starts after. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.recheck) this.timers.clearTimeout(this.recheck);
    this.recheck = undefined;
    this.loop.close();
  }

  private async sweep(): Promise<void> {
    const { ledgers, live } = await listLedgers(this.zk, this.paths);
    let kept = 0;
    for (const member of ledgers) {
      if (live.has(member) || this.closed) continue;
      const parts = await childrenIfExists(this.zk, this.paths.ledger(member));
      if (await this.stillCurrent(member, parts)) {
        kept++;
        continue;
      }
      const tx = this.zk.transaction();
      for (const part of parts) {
        // Its index first (a part in the positional form has one below it).
        const path = childPath(this.paths.ledger(member), part);
        for (const child of await childrenIfExists(this.zk, path)) tx.remove(childPath(path, child));
        tx.remove(path);
      }
      tx.remove(this.paths.ledger(member));
      await this.zk.commit(tx);
      this.log.info({ member, parts: parts.length }, 'removed the ledger of a member gone');
    }
    if (kept > 0 && !this.closed) {
      this.recheck ??= this.timers.setTimeout(() => {
        this.recheck = undefined;
        void this.schedule();
      }, LEDGER_RECHECK_MS);
    }
  }

  /** Whether anything in the gone member's ledger is still current (the first such entry ends the look). */
  private async stillCurrent(member: string, parts: readonly string[]): Promise<boolean> {
    for (const part of parts) {
      const path = childPath(this.paths.ledger(member), part);
      const node = await readLedgerPartNode(this.zk, path);
      if (!node) continue;
      const read = node.part;
      if (!read.ok) {
        // Nobody can read it, so nobody can take anything from it: it goes.
        this.log.error({ err: read.error, path }, 'malformed ledger of a member gone: removing it');
        continue;
      }
      const items: Array<{ job: string; item: number }> = [];
      for (const [job, e] of read.value) for (const item of entryItems(e)) items.push({ job, item });
      // The records are read SWEEP_READS_MAX at a time (20,000 one after the other at 10,000 × 8).
      for (let at = 0; at < items.length; at += SWEEP_READS_MAX) {
        const current = await Promise.all(items.slice(at, at + SWEEP_READS_MAX).map(({ job, item }) => this.entryCurrent(member, node.stat.mzxid, job, item)));
        if (current.includes(true)) return true;
      }
    }
    return false;
  }

  /** Whether the gone member's entry for the item, in a part last written at `partMzxid`, is current. */
  private async entryCurrent(member: string, partMzxid: bigint, job: string, item: number): Promise<boolean> {
    const path = this.paths.item(job, item);
    const record = await this.zk.getDataIfExists(path);
    if (!record) return false; // the item (or its job) is gone
    const progress = readProgress(record.data, path);
    // A record that cannot be read cannot say the entry is superseded: kept.
    return !progress.ok || !supersedes({ mzxid: record.stat.mzxid, by: progress.value.by }, { member, mzxid: partMzxid });
  }
}
