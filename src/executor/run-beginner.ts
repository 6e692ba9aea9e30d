import { commitBatched } from '../zk/batched-multi.js';
import { BeginBatch, type BeginParts } from './begin-batch.js';
import type { BeginRequest, BeginResult } from './begin-request.js';

/**
 * The begin half of the run protocol (the release half is `RunReleaser`): puts each fire of the
 * items firing at one instant in flight in our ledger, through our ledger writer (run protocol v2:
 * the ledger's `f` bit holds the run), and moves each item's frontier in its record (which carries
 * the run itself only when it is a re-run) — in as few multis as the request size allows, each
 * checking our member node at the begin fence (the steps of those multis: `BeginBatch`). Two runs
 * of an item never overlap because only its owner begins it (the fence), never while a run of it is
 * going on here (the executor's lanes), and a new owner waits for the old one's run to leave its
 * ledger (`ItemTakeovers`).
 */
export class RunBeginner {
  constructor(private readonly parts: BeginParts) {}

  /**
   * Records each fire as in flight: as many items per multi as fit in the client's
   * `maxRequestBytes` (one multi for a few thousand items at the default size), the rest in the
   * next ones.
   */
  async begin(requests: readonly BeginRequest[]): Promise<BeginResult[]> {
    const results: Array<BeginResult | undefined> = new Array(requests.length);
    try {
      await this.beginRounds(requests, results);
    } catch (err) {
      // Never leave an item stuck: what began is in flight in our ledger and is run (and released)
      // by the caller; the rest did not begin, and is reported so that the caller records it.
      const failed = requests.filter((_, i) => results[i] === undefined).length;
      this.parts.log.error({ err, items: failed }, 'could not begin runs');
      for (let i = 0; i < requests.length; i++) results[i] ??= { status: 'error', error: err };
    }
    return results.map((r) => r ?? { status: 'gone' });
  }

  private async beginRounds(requests: readonly BeginRequest[], results: Array<BeginResult | undefined>): Promise<void> {
    const batch = new BeginBatch(this.parts, requests, results);
    const outcome = await commitBatched(this.parts.ledger, batch.ordered, batch, { maxRounds: requests.length + 5 });
    // The membership check failed (our node is gone: the session ended), or the rounds ran out.
    const left = outcome.unsent.filter((p) => results[p.i] === undefined);
    if (left.length > 0 && !batch.memberGone) throw new Error('run ledger: begin did not settle');
    for (const p of left) results[p.i] = { status: 'gone' };
    if (outcome.split) this.parts.onSplit(requests.length, outcome.multis);
  }
}
