import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import { childPath, type ZkPaths } from '../zk/zk-paths.js';
import { ZkClosedError } from '../zk/zk-errors.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import { RefreshLoop, type RetryTiming } from '../zk/refresh-loop.js';

/**
 * Removes the ledgers of members that are gone (run protocol v2, step 2: a ledger is read by
 * nothing yet, so a dead member's is only garbage; from step 3 on, a ledger goes only once its
 * items were taken over). Run by the leader when the members change. The ledgers are listed before
 * the members: a member makes its node before its ledger, so a ledger whose member is missing from
 * the later list belongs to a session that is over and will never write it again.
 */
export class LedgerSweeper {
  private readonly loop: RefreshLoop;
  private closed = false;

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly log: Logger,
    retry?: RetryTiming,
  ) {
    this.loop = new RefreshLoop(() => this.sweep(), {
      ...retry,
      deferred: true,
      isFinal: (err) => err instanceof ZkClosedError || this.zk.signal.aborted,
      onRetry: (err, delayMs) => this.log.warn({ err, delayMs }, 'could not remove the ledgers of members gone; retrying'),
    });
  }

  /** Asks for a sweep soon (a burst of member changes costs one). */
  schedule(): void {
    if (!this.closed) void this.loop.request().catch(() => undefined);
  }

  /** Stops it: no sweep starts after. Idempotent. */
  close(): void {
    this.closed = true;
    this.loop.close();
  }

  private async sweep(): Promise<void> {
    const ledgers = await childrenIfExists(this.zk, this.paths.ledgers);
    if (ledgers.length === 0) return;
    const live = new Set(await childrenIfExists(this.zk, this.paths.workers));
    for (const member of ledgers) {
      if (live.has(member) || this.closed) continue;
      const parts = await childrenIfExists(this.zk, this.paths.ledger(member));
      const tx = this.zk.transaction();
      for (const part of parts) tx.remove(childPath(this.paths.ledger(member), part));
      tx.remove(this.paths.ledger(member));
      await this.zk.commit(tx);
      this.log.info({ member, parts: parts.length }, 'removed the ledger of a member gone');
    }
  }
}
