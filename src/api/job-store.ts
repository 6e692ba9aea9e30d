import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { NodeExistsError } from '../zk/zk-errors.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';
import { encodeJob, readJob } from '../model/job-record.js';
import { sameJson } from '../model/json-codec.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';
import { createJob, createMissingItems } from './job-nodes.js';

/**
 * `malformed`: a definition node exists whose data does not decode (or has none), and `overwrite`
 * is off: it is left as it is (see `problem`); the job does not fire until someone repairs it.
 */
export type RegisterOutcome = 'created' | 'kept' | 'overwritten' | 'unchanged' | 'malformed';

/** Reads and writes job definitions in ZooKeeper, the fleet's source of truth. */
export class JobStore {
  /** The jobs node, made once per store (a fleet of 10,000 jobs registers them all on one store). */
  private jobsDir: Promise<void> | undefined;

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

  /** The stored definition; undefined when the node does not exist, has no data or its data does not decode. */
  async get(name: string): Promise<{ definition: JobDefinition; version: number } | undefined> {
    const found = await this.read(name);
    return found?.definition ? { definition: found.definition, version: found.version } : undefined;
  }

  /** The definition node as found: its definition, or why it has none usable. Undefined: no node. */
  private async read(name: string): Promise<{ definition?: JobDefinition; problem?: MalformedDataError; version: number } | undefined> {
    const path = this.paths.job(name);
    const found = await this.zk.getDataIfExists(path);
    if (!found) return undefined;
    const read = readJob(found.data, path, name);
    return read.ok ? { definition: read.value, version: found.stat.version } : { problem: read.error, version: found.stat.version };
  }

  /**
   * Stores `def` unless a definition exists (the first one wins), or replaces it when `overwrite`.
   * Creating writes the definition and all its item nodes in one transaction.
   */
  async register(def: JobDefinition, overwrite: boolean): Promise<{ outcome: RegisterOutcome; definition: JobDefinition; problem?: MalformedDataError }> {
    await this.madeJobsDir();
    for (;;) {
      const existing = await this.read(def.name);
      if (existing && !existing.definition) {
        // A node without a usable definition: only a file with overwrite: true replaces it.
        if (!overwrite) return { outcome: 'malformed', definition: def, ...(existing.problem ? { problem: existing.problem } : {}) };
        try {
          await this.replace(def, existing.version, 0);
          this.log?.warn({ job: def.name, problem: existing.problem?.reason ?? 'no data' }, 'job definition that did not decode overwritten');
          return { outcome: 'overwritten', definition: def };
        } catch (err) {
          if (err instanceof ZkTransactionError && (err.reason.code === 'ZK_BAD_VERSION' || err.reason instanceof NodeExistsError)) continue;
          throw err;
        }
      }
      if (!existing?.definition) {
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
      if (sameJson(existing.definition, def)) return { outcome: 'unchanged', definition: def };
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

  private madeJobsDir(): Promise<void> {
    this.jobsDir ??= this.zk.mkdirp(this.paths.jobs).catch((err: unknown) => {
      this.jobsDir = undefined; // asked again by the next register
      throw err;
    });
    return this.jobsDir;
  }

  private async create(def: JobDefinition): Promise<void> {
    const tx = this.zk.transaction();
    createJob(tx, this.paths, def);
    await this.zk.commit(tx);
  }

  /**
   * Replaces a definition (version-checked); adds the item nodes a larger `shards` needs
   * (`previousShards` 0: whatever is missing of `items`, its item nodes and `triggers`).
   */
  async replace(def: JobDefinition, version: number, previousShards: number): Promise<void> {
    const tx = this.zk.transaction().setData(this.paths.job(def.name), encodeJob(def), version);
    if (previousShards === 0) {
      if ((await this.zk.exists(this.paths.items(def.name))) === null) tx.create(this.paths.items(def.name));
      if ((await this.zk.exists(this.paths.triggers(def.name))) === null) tx.create(this.paths.triggers(def.name));
    }
    if (def.shards > previousShards) {
      const existing = new Set(await this.zk.getChildren(this.paths.items(def.name)).catch(() => [] as string[]));
      createMissingItems(tx, this.paths, def.name, def.shards, existing);
    }
    await this.zk.commit(tx);
  }
}
