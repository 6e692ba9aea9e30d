import { decodeMarker } from '../../src/model/running-marker.js';
import { NodeCache } from '../../src/zk/node-cache.js';
import type { ZkClient } from '../../src/zk/zk-client.js';

/** The end of a running marker as the observer saw it. */
export interface MarkerRelease {
  /** Worker id that held the marker. */
  worker: string;
  /** When the observer saw the marker gone or replaced (ms since the epoch). */
  at: number;
}

/**
 * Follows one item's ephemeral running marker from the observer session and records the end of
 * every marker (deleted, or replaced by another run's before the observer could read the gap) with
 * the worker that held it: the instant a run's release reached ZooKeeper, seen from outside the
 * workers (watch notification plus one read on loopback).
 */
export class MarkerWatch {
  readonly releases: MarkerRelease[] = [];
  /** Worker id holding the marker when the watch started (undefined: none). */
  heldAtStart: string | undefined;
  private readonly cache: NodeCache;
  private holder: { worker: string; czxid: bigint } | undefined;

  constructor(zk: ZkClient, readonly path: string) {
    this.cache = new NodeCache(zk, path);
    this.cache.on('changed', (snap) => {
      const m = snap ? decodeMarker(snap.data) : undefined;
      const next = snap ? { worker: m?.worker ?? m?.member ?? '?', czxid: snap.stat.czxid } : undefined;
      if (this.holder && (!next || next.czxid !== this.holder.czxid)) this.releases.push({ worker: this.holder.worker, at: Date.now() });
      this.holder = next;
    });
  }

  /** Reads the marker once with a watch; resolves when it is known whether it is held. */
  async start(): Promise<void> {
    await this.cache.start();
    this.heldAtStart = this.holder?.worker;
  }

  /** The last end of a marker held by `worker` seen at or after `since`. */
  lastReleaseBy(worker: string, since: number): number | undefined {
    let last: number | undefined;
    for (const r of this.releases) if (r.worker === worker && r.at >= since) last = r.at;
    return last;
  }

  close(): void {
    this.cache.close();
  }
}
