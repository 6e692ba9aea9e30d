import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { decodeJson, encodeJson } from '../model/json-codec.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';

/** `/jobs/<job>/items/<i>/stages`: which stages of which fire completed. */
export interface StageRecord {
  fireId: string;
  done: Record<string, { at: string; result?: unknown }>;
}

/**
 * Staged work (`ctx.stage`): a stage that completed for a fire is recorded in ZooKeeper, only
 * while this run still holds the item's running marker, and skipped when the fire runs again
 * (retry, or a re-run on another worker after failover).
 */
export class StageStore {
  constructor(
    private readonly zk: ZkClient,
    private readonly paths: ZkPaths,
  ) {}

  /** Returns a `stage` function bound to one run. */
  bind(job: string, item: number, fireId: string): <T>(name: string, fn: () => Promise<T> | T) => Promise<T> {
    const path = this.paths.stages(job, item);
    let loaded: { record: StageRecord; version: number } | undefined;
    return async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
        throw new ZkshardError('STAGE_INVALID', `ctx.stage: name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}`);
      }
      if (!loaded) {
        const found = await this.zk.getDataIfExists(path);
        const record = decodeJson<StageRecord>(found?.data);
        loaded = { record: record && record.fireId === fireId ? record : { fireId, done: {} }, version: found ? found.stat.version : -1 };
      }
      const done = loaded.record.done[name];
      if (done) return done.result as T;
      const result = await fn();
      const record: StageRecord = { fireId, done: { ...loaded.record.done, [name]: { at: new Date().toISOString(), result: result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown) } } };
      const tx = this.zk.transaction().check(this.paths.running(job, item));
      if (loaded.version < 0) tx.create(path, encodeJson(record));
      else tx.setData(path, encodeJson(record), loaded.version);
      try {
        const out = await this.zk.commit(tx);
        loaded = { record, version: out[1]?.stat?.version ?? 0 };
      } catch (err) {
        if (err instanceof ZkTransactionError && err.failedIndex === 0) {
          throw new ZkshardError('STAGE_FENCED', `ctx.stage("${name}"): this run no longer holds item ${item} of ${job}; stage not recorded`, { cause: err });
        }
        throw err;
      }
      return result;
    };
  }
}
