import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NodeExistsError, NoNodeError, NotEmptyError } from '../zk/zk-errors.js';
import { ZkTransactionError } from '../zk/zk-transaction.js';
import { RequestError } from '../errors/request-error.js';
import type { JobDefinition } from '../config/job-definition.js';
import { validateJobDefinitions } from '../config/validate-job.js';
import { encodeJob, readJob } from '../model/job-record.js';
import { formatCode, sameCode, withCode } from '../model/job-code.js';
import { checkJobName } from './fleet-reader.js';
import { formatItemList } from './item-list.js';
import { mapLimit, readSubtree } from './zk-read.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import { createJob, createMissingItems } from './job-nodes.js';
import { readMembers } from '../membership/read-members.js';
import { clearFromLedgers } from './ledger-clearing.js';

export type ApplyAction = 'created' | 'updated' | 'unchanged';

/** What `apply` does (or would do) to one job. */
export interface JobChange {
  name: string;
  action: ApplyAction;
  /** Keys whose value changes (`updated` only), in definition order. */
  changed: string[];
  /** Old and new value of each changed key (`from` is null when the stored definition did not decode). Never `handler`/`command` of a job that decodes. */
  changes: Record<string, { from: unknown; to: unknown }>;
  /** Data version of the stored definition the change is based on; null for `created`. */
  baseVersion: number | null;
  /**
   * Set when the file names another handler or command than the stored definition: apply never
   * changes a job's code (workers run the code of their own files); the stored one is kept.
   */
  codeKept?: { stored: string; file: string };
  /** Why the stored definition did not decode (it is replaced whole, the file's code included). */
  storedProblem?: string;
}

/** `zkctl apply` result. */
export interface ApplyResult {
  dryRun: boolean;
  /** Whether a transaction was committed (false for a dry run, or when nothing changes). */
  written: boolean;
  jobs: JobChange[];
}

interface StoredJob {
  version: number;
  /** Item node names under `items`, or null when the `items` node is missing. */
  itemNodes: string[] | null;
}

/**
 * The changes `apply` will write, computed against what was read. Commit it with
 * {@link JobAdmin.commit}: the write fails with `REQUEST_CONFLICT` if any job it covers changed
 * since (so a console can show the diff, then write exactly what was shown, or nothing).
 */
export interface ApplyPlan {
  jobs: JobChange[];
  readonly definitions: readonly JobDefinition[];
  readonly base: { rootExists: boolean; jobsExists: boolean; stored: ReadonlyMap<string, StoredJob> };
}

/** `zkctl remove` result. */
export interface RemoveResult {
  job: string;
  dryRun: boolean;
  /** The removal took runs in flight (`force`): their workers were fenced. */
  forced: boolean;
  /** Items running when it was read (removed with `force`). */
  running: Array<{ item: number; worker: string | null }>;
  /** Every znode removed (or that would be), deepest first. */
  removed: string[];
}

/** How often `remove` re-reads when workers change the job's nodes while it removes them. */
const REMOVE_ATTEMPTS = 5;

/**
 * Write side of job definitions for operators (`zkctl apply|remove`, the future console). Every
 * request is validated first and written in one transaction with version checks: a concurrent
 * change makes it fail whole with `REQUEST_CONFLICT` instead of overwriting; a refused request
 * (`REQUEST_INVALID`, `NOT_FOUND`, `CONFIG_INVALID`) writes nothing.
 */
export class JobAdmin {
  constructor(
    private readonly zk: ZkClient,
    private readonly paths: ZkPaths,
  ) {}

  /**
   * Validates `defs` and computes the change per job (created / updated with changed keys /
   * unchanged). A job that exists keeps its stored handler/command whatever the file says
   * (`codeKept` reports a difference); a new job stores the file's, for operators to see.
   */
  async plan(defs: readonly JobDefinition[]): Promise<ApplyPlan> {
    if (defs.length === 0) throw new RequestError('REQUEST_INVALID', 'apply: no job definitions given');
    const definitions = validateJobDefinitions(defs, undefined, 'jobs');
    const [rootExists, jobsExists] = await Promise.all([this.zk.exists(this.paths.root), this.zk.exists(this.paths.jobs)]);
    const stored = new Map<string, StoredJob>();
    const written = new Map<string, JobDefinition>();
    const jobs = await mapLimit(definitions, async (def): Promise<JobChange> => {
      const found = jobsExists ? await this.zk.getDataIfExists(this.paths.job(def.name)) : null;
      if (!found) return { name: def.name, action: 'created', changed: [], changes: {}, baseVersion: null };
      const itemsStat = await this.zk.exists(this.paths.items(def.name));
      stored.set(def.name, { version: found.stat.version, itemNodes: itemsStat ? await childrenIfExists(this.zk, this.paths.items(def.name)) : null });
      const read = readJob(found.data, this.paths.job(def.name), def.name);
      const before = read.ok ? read.value : undefined;
      // Apply never changes code: the stored handler/command stays (workers run their own anyway).
      const target = before ? withCode(def, before) : def;
      written.set(def.name, target);
      const changes = diffDefinitions(before, target);
      const changed = Object.keys(changes);
      const complete = itemsStat !== null && Array.from({ length: def.shards }, (_, i) => String(i)).every((i) => stored.get(def.name)!.itemNodes!.includes(i));
      const change: JobChange = { name: def.name, action: changed.length === 0 && complete ? 'unchanged' : 'updated', changed, changes, baseVersion: found.stat.version };
      if (before && !sameCode(before, def)) change.codeKept = { stored: formatCode(before), file: formatCode(def) };
      if (!read.ok) change.storedProblem = read.error.reason;
      return change;
    }, 8);
    return { jobs, definitions: definitions.map((d) => written.get(d.name) ?? d), base: { rootExists: rootExists !== null, jobsExists: jobsExists !== null, stored } };
  }

  /**
   * Writes a plan in one transaction: creates (definition, `items`, every item node, `triggers`), updates
   * (definition with a version check, plus the item nodes a larger `shards` needs) and a version
   * check of every unchanged job. Nothing is written when nothing changes.
   * @throws RequestError REQUEST_CONFLICT when a job changed since the plan was read.
   */
  async commit(plan: ApplyPlan): Promise<ApplyResult> {
    const jobs = plan.jobs.map((j) => ({ ...j }));
    if (jobs.every((j) => j.action === 'unchanged')) return { dryRun: false, written: false, jobs };
    const tx = this.zk.transaction();
    if (!plan.base.rootExists) tx.create(this.paths.root);
    if (!plan.base.jobsExists) tx.create(this.paths.jobs);
    for (const def of plan.definitions) {
      const change = jobs.find((j) => j.name === def.name)!;
      const stored = plan.base.stored.get(def.name);
      if (change.action === 'created') {
        createJob(tx, this.paths, def);
      } else if (change.action === 'updated' && stored) {
        tx.setData(this.paths.job(def.name), encodeJob(def), stored.version);
        if (stored.itemNodes === null) tx.create(this.paths.items(def.name));
        createMissingItems(tx, this.paths, def.name, def.shards, new Set(stored.itemNodes ?? []));
      } else if (stored) {
        tx.check(this.paths.job(def.name), stored.version);
      }
    }
    try {
      await this.zk.commit(tx);
    } catch (err) {
      throw this.conflict(err, 'apply');
    }
    return { dryRun: false, written: true, jobs };
  }

  /** Plans and (unless `dryRun`) commits job definitions. */
  async apply(defs: readonly JobDefinition[], options: { dryRun?: boolean } = {}): Promise<ApplyResult> {
    const plan = await this.plan(defs);
    if (options.dryRun) return { dryRun: true, written: false, jobs: plan.jobs };
    return this.commit(plan);
  }

  /**
   * Deletes a job's whole subtree (definition, items, stages, triggers) and its control node in
   * one transaction, every node version-checked; the leader then drops the job from its assignment node.
   * @throws RequestError NOT_FOUND for an unknown job; REQUEST_INVALID for a bad name, or while an
   *   item runs unless `force`; REQUEST_CONFLICT when an operator changed the definition or control
   *   meanwhile (workers' own writes meanwhile make it re-read and try again).
   */
  async remove(job: string, options: { force?: boolean; dryRun?: boolean } = {}): Promise<RemoveResult> {
    checkJobName(job);
    const jobPath = this.paths.job(job);
    for (let attempt = 1; ; attempt++) {
      const entries = await readSubtree(this.zk, jobPath);
      if (entries.length === 0) throw new RequestError('NOT_FOUND', `remove: no job named ${JSON.stringify(job)} in namespace ${this.paths.root}`);
      const ordered = [...entries].sort((a, b) => b.depth - a.depth || (a.path < b.path ? -1 : 1));
      const tx = this.zk.transaction();
      for (const e of ordered) tx.remove(e.path, e.stat.version);
      const control = await this.zk.exists(this.paths.control(job));
      if (control) tx.remove(this.paths.control(job), control.version);
      // The job's runs in flight (live members' ledgers): refused unless forced; then they leave
      // those ledgers and their members are fenced, in this multi.
      const clearing = await clearFromLedgers(this.zk, tx, this.paths, job, 'all', { fence: true });
      const workers = new Map((await readMembers(this.zk, this.paths)).map((m) => [m.name, m.info.id]));
      const running = clearing.running.map((r) => ({ item: r.item, worker: workers.get(r.member) ?? null }));
      if (running.length > 0 && !options.force) {
        const where = [...groupBy(running, (r) => r.worker ?? '?')].map(([w, rs]) => `${formatItemList(rs.map((r) => r.item))} on ${w}`).join(', ');
        throw new RequestError('REQUEST_INVALID', `remove: job ${job} has ${running.length} running ${running.length === 1 ? 'item' : 'items'} (${where}); wait for ${running.length === 1 ? 'it' : 'them'} to finish or use --force`);
      }
      const result: RemoveResult = { job, dryRun: options.dryRun === true, forced: running.length > 0, running, removed: [...ordered.map((e) => e.path), ...(control ? [this.paths.control(job)] : [])] };
      if (options.dryRun) return result;
      try {
        await this.zk.commit(tx);
        return result;
      } catch (err) {
        const path = err instanceof ZkTransactionError ? err.failedOp?.path : undefined;
        const operatorData = path === jobPath || path === this.paths.control(job);
        if (err instanceof ZkTransactionError && !operatorData && attempt < REMOVE_ATTEMPTS
          && (err.reason instanceof NotEmptyError || err.reason instanceof NoNodeError || err.reason instanceof BadVersionError)) {
          continue; // a worker wrote meanwhile (a run began or ended, a new assignment): read again
        }
        throw this.conflict(err, `remove ${job}`);
      }
    }
  }

  /** Turns a failed multi into a `REQUEST_CONFLICT` naming what changed; other errors pass through. */
  private conflict(err: unknown, what: string): unknown {
    if (!(err instanceof ZkTransactionError)) return err;
    const path = err.failedOp?.path ?? '?';
    const reason = err.reason;
    let why: string | undefined;
    if (reason instanceof BadVersionError) why = `${path} was changed by someone else since it was read`;
    else if (reason instanceof NodeExistsError) why = `${path} was created by someone else meanwhile`;
    else if (reason instanceof NoNodeError) why = `${path} was removed by someone else meanwhile`;
    else if (reason instanceof NotEmptyError) why = `${path} gained children meanwhile (a run started?)`;
    if (why === undefined) return err;
    return new RequestError('REQUEST_CONFLICT', `${what}: ${why}; nothing was written, run it again`, { cause: err });
  }
}

/** The keys whose values differ between a stored definition (undefined: did not decode) and a new one. */
export function diffDefinitions(before: JobDefinition | undefined, after: JobDefinition): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  const a = (before ?? {}) as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  const keys = [...Object.keys(b), ...Object.keys(a).filter((k) => !(k in b))];
  for (const key of keys) {
    if (before !== undefined && stableJson(a[key]) === stableJson(b[key])) continue;
    out[key] = { from: before === undefined ? null : (a[key] ?? null), to: b[key] ?? null };
  }
  return out;
}

/** JSON with object keys sorted, so that key order never counts as a change. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of items) m.set(key(t), [...(m.get(key(t)) ?? []), t]);
  return m;
}
