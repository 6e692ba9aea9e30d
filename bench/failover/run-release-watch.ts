import { NodeCache } from '../../src/zk/node-cache.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import type { ZkPaths } from '../../src/zk/zk-paths.js';
import { LEDGER_PARTS, ledgerPartOf, readLedgerPart } from '../../src/model/member-ledger.js';

/**
 * Follows one item in one member's ledger from the observer session (run protocol v2: the
 * ledger's `f` bit holds a run) and records every end of a run of the item there: the instant a
 * run's release reached ZooKeeper, seen from outside the workers (watch notification plus one read
 * on loopback). The member writes its part at every instant one of its jobs fires, so the watch
 * sees every write; a run that began and ended between two reads is not seen.
 */
export class RunReleaseWatch {
  /** When the observer saw the member's run of the item end (ms since the epoch). */
  readonly releases: number[] = [];
  /** Whether the member's ledger had the item in flight when the watch started. */
  heldAtStart = false;
  private readonly cache: NodeCache;
  private held: number | undefined;

  constructor(zk: ZkClient, paths: ZkPaths, member: string, private readonly job: string, private readonly item: number) {
    const path = paths.ledgerPart(member, ledgerPartOf(job, LEDGER_PARTS));
    this.cache = new NodeCache(zk, path);
    this.cache.on('changed', (snap) => {
      const part = snap ? readLedgerPart(snap.data, path) : undefined;
      const next = part?.ok ? part.value.get(this.job)?.f.get(this.item)?.fireMs : undefined;
      if (this.held !== undefined && next !== this.held) this.releases.push(Date.now());
      this.held = next;
    });
  }

  /** Reads the part once with a watch; resolves when it is known whether the run is held. */
  async start(): Promise<void> {
    await this.cache.start();
    this.heldAtStart = this.held !== undefined;
  }

  /** The last end of a run seen at or after `since`. */
  lastRelease(since: number): number | undefined {
    let last: number | undefined;
    for (const at of this.releases) if (at >= since) last = at;
    return last;
  }

  close(): void {
    this.cache.close();
  }
}
