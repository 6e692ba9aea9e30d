import { hostname, userInfo } from 'node:os';
import type pg from 'pg';
import type { ZkClient } from '../zk/zk-client.js';
import { FleetReader } from '../api/fleet-reader.js';
import { checkJobName } from '../api/fleet-reader.js';
import { jobSummaries, jobView, statusView, workersView, type ClockSkew, type FleetStatus, type JobSummary, type JobView, type WorkerView } from '../api/fleet-views.js';
import { FleetOperator, type AssignmentChange } from '../api/fleet-operator.js';
import { JobAdmin, type ApplyResult, type RemoveResult } from '../api/job-admin.js';
import { parseJobFile } from '../api/job-file.js';
import { selectRuns, zooKeeperRuns } from '../api/zookeeper-runs.js';
import { validateJobDefinitions } from '../config/validate-job.js';
import type { JobDefinition } from '../config/job-definition.js';
import { RequestError } from '../errors/request-error.js';
import { queryRuns, type RunFilter, type RunRow } from '../history/run-query.js';
import { PostgresAuditTrail, ZooKeeperAuditTrail, type AuditEntry, type AuditRow } from '../history/audit-trail.js';
import { resolveNamespaceAcl } from '../api/acl-policy.js';
import type { Logger } from 'pino';
import type { ConsoleZooKeeper } from './console-zookeeper.js';

/** How long a clock-skew reading is reused by `status` (each reading writes `/<ns>/clock`). */
const CLOCK_READING_MS = 10_000;

/** Who asks: the console user (recorded in the audit trail). */
export interface Actor {
  user: string;
}

/**
 * What the console does, each read and action through src/api (the code zkctl runs): reads from
 * the watched fleet in the `zkctl --json` shapes, actions with the live session, each recorded in
 * the audit trail with the console user's name (PostgreSQL when configured, else ZooKeeper).
 */
export class ConsoleOperations {
  private clock: { at: number; value: ClockSkew | null } | undefined;
  private clockReading: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly zookeeper: ConsoleZooKeeper, private readonly history: pg.Pool | undefined, logger: Logger) {
    this.log = logger.child({ component: 'console-operations' });
  }

  // ---- reads (zkctl --json shapes) -----------------------------------------------------------

  async status(): Promise<FleetStatus> {
    const { zk, cache } = this.zookeeper.current();
    // Only the first reading is waited for; a stale one is answered with while the next is taken
    // (a write of `/<ns>/clock`, which waits behind the fleet's writes on a busy ZooKeeper).
    if (!this.clock) await this.readClock(zk);
    else if (Date.now() - this.clock.at > CLOCK_READING_MS) void this.readClock(zk);
    return statusView(cache.snapshot(), zk.connectString, this.clock?.value ?? null);
  }

  /** Takes a clock-skew reading (one at a time). */
  private readClock(zk: ZkClient): Promise<void> {
    this.clockReading ??= new FleetReader(zk, this.zookeeper.paths).clockSkew().catch(() => null)
      .then((value) => { this.clock = { at: Date.now(), value }; })
      .finally(() => { this.clockReading = undefined; });
    return this.clockReading;
  }

  workers(id?: string): WorkerView[] {
    const all = workersView(this.zookeeper.current().cache.snapshot());
    if (id === undefined) return all;
    const mine = all.filter((w) => w.id === id);
    if (mine.length === 0) throw new RequestError('NOT_FOUND', `no live worker with id ${JSON.stringify(id)}`);
    return mine;
  }

  jobs(): JobSummary[] {
    return jobSummaries(this.zookeeper.current().cache.snapshot());
  }

  /** One job with each item's run history (read now: histories are not watched). */
  async job(name: string): Promise<JobView> {
    checkJobName(name);
    const { cache } = this.zookeeper.current();
    if (!cache.has(name)) throw new RequestError('NOT_FOUND', `no job named ${JSON.stringify(name)} in namespace ${this.zookeeper.paths.root}`);
    // The item histories and (unless watched) the items themselves, read together.
    const [histories] = await Promise.all([cache.histories([name]), cache.fresh([name])]);
    return jobView(cache.snapshot([name], histories), name);
  }

  async runs(filter: RunFilter): Promise<RunRow[]> {
    if (filter.job !== undefined) checkJobName(filter.job);
    if (this.history) return queryRuns(this.history, filter);
    const { cache } = this.zookeeper.current();
    if (filter.job !== undefined && !cache.has(filter.job)) throw new RequestError('NOT_FOUND', `no job named ${JSON.stringify(filter.job)} in namespace ${this.zookeeper.paths.root}`);
    if (filter.job === undefined) return selectRuns(await cache.runs(), filter);
    return zooKeeperRuns(cache.snapshot([filter.job], await cache.histories([filter.job])), filter);
  }

  async audit(query: { since?: Date; limit?: number }): Promise<AuditRow[]> {
    if (this.history) return new PostgresAuditTrail(this.history).list(query);
    const { zk } = this.zookeeper.current();
    return new ZooKeeperAuditTrail(zk, this.zookeeper.paths).list(query);
  }

  /** Where runs and audit come from. */
  get historySource(): 'postgres' | 'zookeeper' {
    return this.history ? 'postgres' : 'zookeeper';
  }

  // ---- actions (as zkctl's, without waiting: the browser follows the events) -----------------

  trigger(actor: Actor, job: string, item: number | undefined) {
    return this.audited(actor, 'trigger', item === undefined ? job : `${job}#${item}`, { job, item }, async (ops) => {
      const t = await ops.trigger(job, item);
      return { job, items: t.items, fireTime: t.fireTime.toISOString(), started: false };
    });
  }

  setEnabled(actor: Actor, job: string, item: number | undefined, enabled: boolean) {
    return this.audited(actor, enabled ? 'enable' : 'disable', item === undefined ? job : `${job}#${item}`, { job, item }, async (ops) => {
      if (enabled) await ops.enable(job, item);
      else await ops.disable(job, item);
      return { job, item: item ?? null, disabled: !enabled };
    });
  }

  move(actor: Actor, job: string, item: number, to: string) {
    return this.audited(actor, 'move', `${job}#${item}`, { job, item, to }, async (ops) => {
      await ops.move(job, item, to);
      return { job, item, pinnedTo: to, applied: false };
    });
  }

  unpin(actor: Actor, job: string, item: number) {
    return this.audited(actor, 'unpin', `${job}#${item}`, { job, item }, async (ops) => {
      await ops.unpin(job, item);
      return { job, item, pinned: false };
    });
  }

  async reshard(actor: Actor, job: string, shards: number, dryRun: boolean): Promise<AssignmentChange & { applied: boolean }> {
    const run = async (ops: FleetOperator) => ({ ...(await ops.reshard(job, shards, { dryRun })), applied: !dryRun });
    if (dryRun) return run(this.operator());
    return this.audited(actor, 'reshard', job, { job, shards }, run);
  }

  async rebalance(actor: Actor, dryRun: boolean): Promise<{ applied: boolean; jobs: AssignmentChange[] }> {
    const run = async (ops: FleetOperator) => ({ applied: !dryRun, jobs: await ops.rebalance({ dryRun }) });
    if (dryRun) return run(this.operator());
    return this.audited(actor, 'rebalance', '*', {}, run);
  }

  drain(actor: Actor, worker: string) {
    return this.audited(actor, 'drain', worker, { worker }, async (ops) => {
      const started = Date.now();
      const moved = await ops.drain(worker);
      return { worker, moved, drained: false, tookMs: Date.now() - started };
    });
  }

  undrain(actor: Actor, worker: string) {
    return this.audited(actor, 'undrain', worker, { worker }, async (ops) => {
      await ops.undrain(worker);
      return { worker, drained: false };
    });
  }

  /**
   * Creates or replaces one job's definition (`zkctl apply` of one job): `definition` is a job in
   * the worker config's schema (an object, or YAML text). With `baseVersion`, refused with 409
   * when the stored definition is no longer that version (someone changed it since it was read).
   */
  async putJob(actor: Actor, name: string, definition: unknown, options: { dryRun: boolean; baseVersion?: number }): Promise<ApplyResult> {
    checkJobName(name);
    const def = parseDefinition(name, definition);
    const { zk } = this.zookeeper.current();
    const admin = new JobAdmin(zk, this.zookeeper.paths);
    const go = async (): Promise<ApplyResult> => {
      const plan = await admin.plan([def]);
      const base = plan.jobs[0]!.baseVersion;
      if (options.baseVersion !== undefined && base !== options.baseVersion) {
        throw new RequestError('REQUEST_CONFLICT', `job ${name} was changed by someone else since it was read (version ${options.baseVersion}, now ${base ?? 'removed'}); nothing was written, reload it`);
      }
      if (options.dryRun) return { dryRun: true, written: false, jobs: plan.jobs };
      return admin.commit(plan);
    };
    if (options.dryRun) return go();
    return this.audited(actor, 'apply', name, { job: name, definition: def, baseVersion: options.baseVersion }, go);
  }

  async removeJob(actor: Actor, name: string, options: { force: boolean; dryRun: boolean }): Promise<RemoveResult> {
    const { zk } = this.zookeeper.current();
    const go = () => new JobAdmin(zk, this.zookeeper.paths).remove(name, options);
    if (options.dryRun) return go();
    return this.audited(actor, 'remove', name, { job: name, force: options.force }, go);
  }

  private operator(): FleetOperator {
    return new FleetOperator(this.zookeeper.current().zk, this.zookeeper.paths);
  }

  /** Runs an action and records it (as zkctl's `audited`): who, what, the result; never changes the outcome. */
  private async audited<T>(actor: Actor, action: string, target: string, request: Record<string, unknown>, fn: (ops: FleetOperator) => Promise<T>): Promise<T> {
    const { zk } = this.zookeeper.current();
    const entry: Omit<AuditEntry, 'result'> = { at: new Date(), zkUser: zk.user, osUser: osUser(), host: hostname(), consoleUser: actor.user, action, target, request };
    let result = 'ok';
    try {
      return await fn(new FleetOperator(zk, this.zookeeper.paths));
    } catch (err) {
      result = `failed: ${(err as Error)?.message ?? String(err)}`.slice(0, 1000);
      throw err;
    } finally {
      try {
        if (this.history) await new PostgresAuditTrail(this.history).append({ ...entry, result });
        else {
          await resolveNamespaceAcl(zk, this.zookeeper.paths.root);
          await new ZooKeeperAuditTrail(zk, this.zookeeper.paths).append({ ...entry, result });
        }
      } catch (err) {
        if (result === 'ok') this.log.warn({ err: (err as Error).message, action, target, user: actor.user }, 'audit entry not recorded');
      }
    }
  }
}

/** A definition from a request: YAML text or an object, in the worker config's job schema, named `name`. */
function parseDefinition(name: string, definition: unknown): JobDefinition {
  if (typeof definition === 'string') {
    const defs = parseJobFile(definition, 'definition');
    if (defs.length !== 1) throw new RequestError('REQUEST_INVALID', `definition: expected one job, got ${defs.length}`);
    if (defs[0]!.name !== name) throw new RequestError('REQUEST_INVALID', `definition: name ${JSON.stringify(defs[0]!.name)} differs from the job in the URL (${JSON.stringify(name)})`);
    return defs[0]!;
  }
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new RequestError('REQUEST_INVALID', `definition: expected a job (an object, or YAML text), got ${JSON.stringify(definition) ?? 'nothing'}`);
  }
  const raw = { name, ...(definition as Record<string, unknown>) };
  if (raw.name !== name) throw new RequestError('REQUEST_INVALID', `definition: name ${JSON.stringify(raw.name)} differs from the job in the URL (${JSON.stringify(name)})`);
  return validateJobDefinitions([raw], 'definition', 'job')[0]!;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '?';
  }
}
