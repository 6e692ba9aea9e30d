import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { NodeExistsError } from '../zk/zk-errors.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';
import { decodeJob, encodeJob } from '../model/job-record.js';
import { createJob, createMissingItems } from './job-nodes.js';

export type RegisterOutcome = 'created' | 'kept' | 'overwritten' | 'unchanged';

/** Reads and writes job definitions in ZooKeeper, the fleet's source of truth. */
export class JobStore {
  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly log?: Logger,
  ) {}

  async list(): Promise<string[]> {
    try {
      return (await this.zk.getChildren(this.paths.jobs)).sort();
    } catch (err) {
      if ((err as { code?: string }).code === 'ZK_NO_NODE') return [];
      throw err;
    }
  }

  async get(name: string): Promise<{ definition: JobDefinition; version: number } | undefined> {
    const found = await this.zk.getDataIfExists(this.paths.job(name));
    const definition = found && decodeJob(found.data);
    return definition ? { definition, version: found.stat.version } : undefined;
  }

  /**
   * Stores `def` unless a definition exists (the first one wins), or replaces it when `overwrite`.
   * Creating writes the definition and all its item nodes in one transaction.
   */
  async register(def: JobDefinition, overwrite: boolean): Promise<{ outcome: RegisterOutcome; definition: JobDefinition }> {
    await this.zk.mkdirp(this.paths.jobs);
    for (;;) {
      const existing = await this.get(def.name);
      if (!existing) {
        try {
          await this.create(def);
          this.log?.info({ job: def.name }, 'job definition stored');
          return { outcome: 'created', definition: def };
        } catch (err) {
          if (err instanceof ZkTransactionError && err.reason instanceof NodeExistsError) continue; // lost a race
          throw err;
        }
      }
      if (!overwrite) return { outcome: 'kept', definition: existing.definition };
      if (JSON.stringify(existing.definition) === JSON.stringify(def)) return { outcome: 'unchanged', definition: def };
      try {
        await this.replace(def, existing.version, existing.definition.shards);
        this.log?.info({ job: def.name }, 'job definition overwritten');
        return { outcome: 'overwritten', definition: def };
      } catch (err) {
        if (err instanceof ZkTransactionError && err.reason.code === 'ZK_BAD_VERSION') continue;
        throw err;
      }
    }
  }

  private async create(def: JobDefinition): Promise<void> {
    const tx = this.zk.transaction();
    createJob(tx, this.paths, def);
    await this.zk.commit(tx);
  }

  /** Replaces a definition (version-checked); adds the item nodes a larger `shards` needs. */
  async replace(def: JobDefinition, version: number, previousShards: number): Promise<void> {
    const tx = this.zk.transaction().setData(this.paths.job(def.name), encodeJob(def), version);
    if (def.shards > previousShards) {
      const existing = new Set(await this.zk.getChildren(this.paths.items(def.name)).catch(() => [] as string[]));
      createMissingItems(tx, this.paths, def.name, def.shards, existing);
    }
    await this.zk.commit(tx);
  }
}
