import type { Logger } from 'pino';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import type { ZkSession } from '../zk/zk-session.js';
import { readProgress } from '../model/progress-record.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { LedgerWriter } from './ledger-writer.js';
import type { LedgerMember } from './run-fences.js';

/** How often the claims of items that left are looked at again (a new owner writes the record with its first begin). */
export const LEFT_CLAIMS_CHECK_MS = 5000;
/** Records read at once by one look. */
const READS_MAX = 64;

interface LeftClaim {
  job: string;
  item: number;
  /** The zxid of our ledger part's last write when the item left: our claim of it is no later. */
  sinceZxid: bigint;
  /** The claim (instant) the look found superseded: only that one goes (a later one is a new begin's). */
  claimMs?: number;
}

/** What `LeftClaims` works with. */
export interface LeftClaimsParts {
  zk: Pick<ZkSession, 'getDataIfExists'>;
  ledger: Pick<LedgerWriter, 'transaction' | 'commit' | 'change' | 'claimOf' | 'partZxid' | 'partOf'>;
  paths: ZkPaths;
  member: LedgerMember;
  time: Clock;
  log: Logger;
}

/**
 * Lets go of the claims of items that left this member (run protocol v2, step 4c: a claim in a
 * member's ledger is the item's frontier until another member's record write supersedes it). A
 * claim stays until the item's record was written by another member after the item left — the new
 * owner's first begin, which read our ledger in its takeover and carries our claim on — or the item
 * is gone; then it leaves our ledger in a write of its own. Only the owner writes the record: a
 * write of ours now would supersede the new owner's entries without the runs they hold. An item
 * that came back keeps its claim. A claim kept longer than needed is a fact: nothing is lost.
 */
export class LeftClaims {
  private left: LeftClaim[] = [];
  private timer: TimerHandle | undefined;
  private checking = false;
  private closed = false;

  constructor(private readonly parts: LeftClaimsParts) {}

  /** The item left this member: its claim, if our ledger has one, goes once superseded. */
  add(job: string, item: number): void {
    const { ledger } = this.parts;
    if (this.closed) return;
    if (ledger.claimOf(job, item) === undefined) return;
    this.left.push({ job, item, sinceZxid: ledger.partZxid(ledger.partOf(job)) });
    this.timer ??= this.parts.time.setTimeout(() => void this.check(), LEFT_CLAIMS_CHECK_MS);
  }

  /** Stops the timer. Idempotent. */
  close(): void {
    this.closed = true;
    this.parts.time.clearTimeout(this.timer);
    this.timer = undefined;
    this.left = [];
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (this.checking) return;
    this.checking = true;
    const { zk, ledger, paths, member, log } = this.parts;
    const me = sequenceOf(member.name);
    const pending = this.left;
    this.left = [];
    const looked = new Set<LeftClaim>();
    const keep: LeftClaim[] = [];
    const drop: LeftClaim[] = [];
    try {
      for (let at = 0; at < pending.length; at += READS_MAX) {
        await Promise.all(
          pending.slice(at, at + READS_MAX).map(async (c) => {
            const claimMs = ledger.claimOf(c.job, c.item);
            if (claimMs === undefined || member.owns?.(c.job, c.item)) return void looked.add(c); // gone already, or back here
            const path = paths.item(c.job, c.item);
            const found = await zk.getDataIfExists(path);
            const record = found && readProgress(found.data, path);
            const superseded = !found || (record?.ok === true && found.stat.mzxid > c.sinceZxid && record.value.by !== me);
            looked.add(c);
            (superseded ? drop : keep).push({ ...c, claimMs });
          }),
        );
      }
      if (drop.length > 0) {
        // Only the claims looked at: an item that came back and was begun since has a later one.
        const tx = ledger.transaction().check(paths.member(member.name), -1);
        ledger.change(tx, { left: drop.map(({ job, item, claimMs }) => ({ job, item, claimMs })) });
        await ledger.commit(tx);
      }
    } catch (err) {
      log.debug({ err, items: drop.length }, 'claims of items that left kept for now');
      keep.push(...drop, ...pending.filter((c) => !looked.has(c)));
    } finally {
      this.checking = false;
      if (!this.closed) {
        this.left.push(...keep);
        if (this.left.length > 0) this.timer ??= this.parts.time.setTimeout(() => void this.check(), LEFT_CLAIMS_CHECK_MS);
      }
    }
  }
}
