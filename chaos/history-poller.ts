import { setTimeout as sleep } from 'node:timers/promises';
import { readHistory } from '../src/model/progress-record.js';
import type { ZkPaths } from '../src/zk/zk-paths.js';
import type { ChaosJob, HistoryNote } from './chaos-records.js';

/** Reads one znode's data: `null` when it does not exist; rejects when ZooKeeper cannot answer. */
export type ReadNode = (path: string) => Promise<Buffer | null>;

/** How often the harness reads every item's history during a run. */
export const HISTORY_POLL_MS = 1000;

/** What the polls saw, for the report and the logs. */
export interface HistoryPollStats {
  /** Polls in which every item's history was read. */
  complete: number;
  /** Polls in which some history could not be read (ZooKeeper down, the observer's session lost). */
  incomplete: number;
  /** Histories ZooKeeper held that did not decode (nothing is taken from them). */
  malformed: number;
}

/**
 * Collects the missed/skipped entries ZooKeeper holds in every item's run history, so that the
 * coverage check sees a note whose write ZooKeeper applied although its writer never heard the
 * answer (cut off, then lost its session), which therefore logged nothing. A history keeps the last
 * `RECENT_OUTCOMES` (10) entries; an item adds about one a second at most, so a poll every second
 * (`start`) and one at the end (`poll`) see every entry. Each distinct entry is kept once (key: job,
 * item, outcome, fireTime, at, error). Only what was read from ZooKeeper is kept.
 */
export class HistoryPoller {
  readonly #read: ReadNode;
  readonly #paths: ZkPaths;
  readonly #jobs: readonly ChaosJob[];
  readonly #seen = new Set<string>();
  readonly #notes: HistoryNote[] = [];
  readonly #stats: HistoryPollStats = { complete: 0, incomplete: 0, malformed: 0 };
  #loop: Promise<void> | undefined;
  #stop: AbortController | undefined;

  constructor(read: ReadNode, paths: ZkPaths, jobs: readonly ChaosJob[]) {
    this.#read = read;
    this.#paths = paths;
    this.#jobs = jobs;
  }

  /** Every distinct missed/skipped entry read so far, in the order first seen. */
  get notes(): readonly HistoryNote[] {
    return this.#notes;
  }

  get stats(): Readonly<HistoryPollStats> {
    return { ...this.#stats };
  }

  /**
   * Reads every item's history once; resolves `true` when every read got an answer (a missing node
   * is an answer), `false` otherwise. `now` stamps the entries first seen.
   */
  async poll(now: () => number = Date.now): Promise<boolean> {
    const reads = this.#jobs.flatMap((job) => Array.from({ length: job.shards }, (_, item) => ({ job: job.name, item })));
    const results = await Promise.allSettled(reads.map(async ({ job, item }) => {
      const path = this.#paths.history(job, item);
      const data = await this.#read(path);
      return { job, item, path, data };
    }));
    let complete = true;
    for (const r of results) {
      if (r.status === 'rejected') {
        complete = false;
        continue;
      }
      const { job, item, path, data } = r.value;
      if (data === null) continue;
      const history = readHistory(data, path);
      if (!history.ok) {
        this.#stats.malformed++;
        continue;
      }
      for (const h of history.value) {
        if (h.outcome !== 'missed' && h.outcome !== 'skipped') continue;
        const key = JSON.stringify([job, item, h.outcome, h.fireTime, h.at, h.error ?? null]);
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        this.#notes.push({
          job, item, outcome: h.outcome, fireTime: h.fireTime, at: h.at, worker: h.worker, seenAt: now(),
          ...(h.error === undefined ? {} : { error: h.error }),
        });
      }
    }
    if (complete) this.#stats.complete++;
    else this.#stats.incomplete++;
    return complete;
  }

  /** Polls every `intervalMs` (from the end of one poll to the start of the next) until `stop`. */
  start(intervalMs = HISTORY_POLL_MS): void {
    if (this.#loop) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#loop = (async () => {
      while (!stop.signal.aborted) {
        await this.poll();
        await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    })();
  }

  /** Ends the polling loop; resolves once its last poll is over. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#loop;
    this.#loop = undefined;
  }
}
