import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProgress } from '../model/progress-record.js';
import { readLedgerPartNode } from '../membership/read-ledger-node.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import type { ZkSession } from '../zk/zk-session.js';
import { childPath, sequenceOf, TRIGGER_PREFIX, type ZkPaths } from '../zk/zk-paths.js';
import { BadVersionError, NodeExistsError, NoNodeError, NotEmptyError } from '../zk/zk-errors.js';
import { ZkTransactionError, type ZkTransaction } from '../zk/zk-transaction.js';
import { RequestError } from '../errors/request-error.js';
import { MAX_SHARDS, type JobDefinition } from '../config/job-definition.js';
import { decodeJob, encodeJob } from '../model/job-record.js';
import type { AssignmentRecord } from '../model/assignment-record.js';
import { readAllAssignments, readAssignmentOf } from './read-assignments.js';
import { decodeControl, encodeControl, type JobControl } from '../model/job-control.js';
import { encodeJson } from '../model/json-codec.js';
import { readMembers } from '../membership/read-members.js';
import type { Member } from '../membership/member-info.js';
import { planAssignment } from '../leader/plan-assignment.js';
import { createMissingItems, removeItem } from './job-nodes.js';
import { clearFromLedgers } from './ledger-clearing.js';

/** Tries of a `reshard` whose multi met a member's write of its ledger meanwhile (read again each time). */
const RESHARD_ATTEMPTS = 5;

/** A job's assignment before and after a change, by worker id. */
export interface AssignmentChange {
  job: string;
  shardsBefore: number;
  shardsAfter: number;
  before: (string | null)[];
  after: (string | null)[];
  /** Items whose owner changes (items that only appear or disappear are not moves). */
  moves: number;
}

export interface WaitOptions {
  /** @default 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The operator's mutations: reshard, rebalance, move/unpin, drain/undrain, disable/enable and
 * trigger. Each validates first, then writes in one transaction with version checks (a concurrent
 * change fails with `REQUEST_CONFLICT`, never silently overwrites). The leader honours the request
 * in the next assignment it writes; the `waitFor*` calls watch for that.
 */
export class FleetOperator {
  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
  ) {}

  // ---- reshard / rebalance -------------------------------------------------------------------

  /** Changes a job's number of items. With `dryRun`, only computes the change. */
  async reshard(job: string, shards: number, options: { dryRun?: boolean; force?: boolean } = {}): Promise<AssignmentChange> {
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
      throw new RequestError('REQUEST_INVALID', `reshard: --shards must be an integer from 1 to ${MAX_SHARDS}, got ${JSON.stringify(shards)}`);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reshardOnce(job, shards, options);
      } catch (err) {
        // A live member wrote its ledger part (or a fence moved its member node) between our read
        // and our multi: read it all again.
        const cause = err instanceof RequestError ? err.cause : undefined;
        const path = cause instanceof ZkTransactionError && cause.reason instanceof BadVersionError ? cause.failedOp?.path : undefined;
        const ledgerRace = path !== undefined && (path.startsWith(`${this.paths.ledgers}/`) || path.startsWith(`${this.paths.workers}/`));
        if (!ledgerRace || attempt >= RESHARD_ATTEMPTS) throw err;
      }
    }
  }

  private async reshardOnce(job: string, shards: number, options: { dryRun?: boolean; force?: boolean }): Promise<AssignmentChange> {
    const { definition, version } = await this.requireJob(job);
    if (shards === definition.shards) throw new RequestError('REQUEST_INVALID', `reshard: job ${job} already has ${shards} items`);
    const state = await this.readState(job);
    const change = this.change(definition, { ...definition, shards }, state);
    if (options.dryRun) return change;

    const tx = this.zk.transaction().setData(this.paths.job(job), encodeJob({ ...definition, shards }), version);
    const existing = new Set(await this.zk.getChildren(this.paths.items(job)).catch(() => [] as string[]));
    createMissingItems(tx, this.paths, job, shards, existing);
    const removed = new Set<number>();
    for (let i = shards; i < definition.shards; i++) {
      if (!existing.has(String(i))) continue;
      removeItem(tx, this.paths, job, i, await this.zk.getChildren(this.paths.item(job, i)).catch(() => [] as string[]));
      removed.add(i);
    }
    // A removed item some live member runs (its ledger has it in flight) is refused, unless forced:
    // then the run leaves that member's ledger and the member is fenced, in this multi.
    if (removed.size > 0) {
      const { running } = await clearFromLedgers(this.zk, tx, this.paths, job, removed, { fence: true });
      if (running.length > 0 && !options.force) {
        throw new RequestError('REQUEST_INVALID', `reshard: item ${running[0]!.item} of ${job} is running; wait for it or use --force`);
      }
    }
    if (state.controlVersion >= 0) {
      const control = state.control;
      const pins = Object.fromEntries(Object.entries(control.pins).filter(([item]) => Number(item) < shards));
      tx.setData(this.paths.control(job), encodeControl({ ...control, pins, disabledItems: control.disabledItems.filter((i) => i < shards) }), state.controlVersion);
    }
    await this.commit(tx, `reshard ${job}`);
    return change;
  }

  /** Asks the leader to recompute every assignment now; returns what it will do. */
  async rebalance(options: { dryRun?: boolean } = {}): Promise<AssignmentChange[]> {
    const jobs = (await this.zk.getChildren(this.paths.jobs).catch(() => [] as string[])).sort();
    const changes: AssignmentChange[] = [];
    for (const job of jobs) {
      const found = await this.zk.getDataIfExists(this.paths.job(job));
      const def = decodeJob(found?.data);
      if (def) changes.push(this.change(def, def, await this.readState(job)));
    }
    if (!options.dryRun) {
      const stamp = encodeJson({ requestedAt: new Date().toISOString() });
      if (!(await this.zk.createIfAbsent(this.paths.rebalance, stamp))) await this.zk.setData(this.paths.rebalance, stamp);
    }
    return changes;
  }

  // ---- pins ------------------------------------------------------------------------------------

  /** Pins an item to a worker: the leader assigns it there while that worker is live. */
  async move(job: string, item: number, workerId: string): Promise<void> {
    const { definition } = await this.requireJob(job);
    this.requireItem(definition, item);
    const members = await readMembers(this.zk, this.paths);
    const worker = members.filter((m) => m.info.id === workerId);
    if (worker.length === 0) throw new RequestError('NOT_FOUND', `move: no live worker with id ${JSON.stringify(workerId)}`);
    if (!worker.some((m) => m.info.jobs.includes(job))) {
      throw new RequestError('REQUEST_INVALID', `move: worker ${workerId} does not run job ${job} (its jobs: ${worker[0]!.info.jobs.join(', ') || 'none'})`);
    }
    if (await this.isDrained(workerId)) throw new RequestError('REQUEST_INVALID', `move: worker ${workerId} is being drained`);
    await this.updateControl(job, (c) => ({ ...c, pins: { ...c.pins, [String(item)]: workerId } }));
  }

  async unpin(job: string, item: number): Promise<void> {
    const { definition } = await this.requireJob(job);
    this.requireItem(definition, item);
    await this.updateControl(job, (c) => {
      if (!(String(item) in c.pins)) throw new RequestError('REQUEST_INVALID', `unpin: item ${item} of ${job} is not pinned`);
      const pins = { ...c.pins };
      delete pins[String(item)];
      return { ...c, pins };
    });
  }

  // ---- drain -----------------------------------------------------------------------------------

  /**
   * Moves every item off a worker (all its live members) and keeps it empty until `undrain`.
   * Returns the items it owned when asked, per job.
   */
  async drain(workerId: string): Promise<Record<string, number[]>> {
    const members = await readMembers(this.zk, this.paths);
    if (!members.some((m) => m.info.id === workerId)) throw new RequestError('NOT_FOUND', `drain: no live worker with id ${JSON.stringify(workerId)}`);
    if (members.every((m) => m.info.id === workerId)) {
      throw new RequestError('REQUEST_INVALID', `drain: ${workerId} is the only live worker; its items would have nowhere to go`);
    }
    const owned: Record<string, number[]> = {};
    const assignments = await readAllAssignments(this.zk, this.paths);
    for (const job of await this.zk.getChildren(this.paths.jobs).catch(() => [] as string[])) {
      const a = assignments.get(job);
      const items = (a?.owners ?? []).flatMap((o, i) => (o !== null && a?.workers[o] === workerId ? [i] : []));
      if (items.length > 0) owned[job] = items;
    }
    await this.zk.mkdirp(this.paths.drains);
    const created = await this.zk.createIfAbsent(this.paths.drain(workerId), encodeJson({ requestedAt: new Date().toISOString() }));
    if (!created) throw new RequestError('REQUEST_INVALID', `drain: worker ${workerId} is already being drained`);
    return owned;
  }

  async undrain(workerId: string): Promise<void> {
    try {
      await this.zk.remove(this.paths.drain(workerId));
    } catch (err) {
      if (err instanceof NoNodeError) throw new RequestError('REQUEST_INVALID', `undrain: worker ${workerId} is not being drained`);
      throw err;
    }
  }

  async isDrained(workerId: string): Promise<boolean> {
    return (await this.zk.exists(this.paths.drain(workerId))) !== null;
  }

  // ---- disable / enable / trigger --------------------------------------------------------------

  async disable(job: string, item?: number): Promise<void> {
    const { definition } = await this.requireJob(job);
    if (item === undefined) {
      await this.updateControl(job, (c) => {
        if (c.disabled) throw new RequestError('REQUEST_INVALID', `disable: job ${job} is already disabled`);
        return { ...c, disabled: true };
      });
      return;
    }
    this.requireItem(definition, item);
    await this.updateControl(job, (c) => {
      if (c.disabledItems.includes(item)) throw new RequestError('REQUEST_INVALID', `disable: item ${item} of ${job} is already disabled`);
      return { ...c, disabledItems: [...c.disabledItems, item].sort((a, b) => a - b) };
    });
  }

  async enable(job: string, item?: number): Promise<void> {
    const { definition } = await this.requireJob(job);
    if (item === undefined) {
      await this.updateControl(job, (c) => {
        if (!c.disabled) throw new RequestError('REQUEST_INVALID', `enable: job ${job} is not disabled${c.disabledItems.length ? ` (items ${c.disabledItems.join(', ')} are: use --item)` : ''}`);
        return { ...c, disabled: false };
      });
      return;
    }
    this.requireItem(definition, item);
    await this.updateControl(job, (c) => {
      if (!c.disabledItems.includes(item)) throw new RequestError('REQUEST_INVALID', `enable: item ${item} of ${job} is not disabled`);
      return { ...c, disabledItems: c.disabledItems.filter((i) => i !== item) };
    });
  }

  /** Runs the job's items (or one) now, once, on their owners. Returns the trigger's fire time. */
  async trigger(job: string, item?: number): Promise<{ request: string; fireTime: Date; items: number[] }> {
    const { definition } = await this.requireJob(job);
    if (item !== undefined) this.requireItem(definition, item);
    const { control, assignment } = await this.readState(job);
    const items = item === undefined ? Array.from({ length: definition.shards }, (_, i) => i) : [item];
    const disabled = items.filter((i) => control.disabled || control.disabledItems.includes(i));
    if (disabled.length === items.length) throw new RequestError('REQUEST_INVALID', `trigger: ${item === undefined ? `job ${job} is` : `item ${item} of ${job} is`} disabled; enable it first`);
    const unowned = items.filter((i) => !assignment?.owners[i]);
    if (unowned.length === items.length) throw new RequestError('REQUEST_INVALID', `trigger: no live worker owns ${item === undefined ? `any item of ${job}` : `item ${item} of ${job}`}`);
    await this.zk.mkdirp(this.paths.triggers(job));
    const path = await this.zk.create(this.paths.trigger(job, TRIGGER_PREFIX), encodeJson({ items: item === undefined ? null : [item], requestedAt: new Date().toISOString() }), 'persistentSequential');
    const stat = await this.zk.exists(path);
    return { request: path.slice(path.lastIndexOf('/') + 1), fireTime: new Date(stat?.ctime ?? Date.now()), items: items.filter((i) => !disabled.includes(i) && !unowned.includes(i)) };
  }

  /** Waits until every item of a trigger has taken it on (or later), then deletes the request. */
  async waitForTrigger(job: string, trigger: { request: string; fireTime: Date; items: number[] }, options: WaitOptions = {}): Promise<void> {
    // Each item records the latest trigger it took on (`lastTrigger`, the node's sequence number).
    const sequence = sequenceOf(trigger.request);
    await this.poll(async () => {
      for (const i of trigger.items) {
        const p = await this.zk.getDataIfExists(this.paths.item(job, i));
        const last = p ? decodeProgress(p.data).lastTrigger : undefined;
        if (last === undefined || last < sequence) return false;
      }
      return true;
    }, options, `trigger of ${job} to be taken on`);
    await this.zk.remove(this.paths.trigger(job, trigger.request)).catch(() => undefined);
  }

  // ---- waiting for the leader ------------------------------------------------------------------

  /** Waits until the job's assignment satisfies `done` (the leader honoured the request). */
  async waitForAssignment(job: string, done: (a: AssignmentRecord, members: Member[]) => boolean, options: WaitOptions = {}): Promise<AssignmentRecord> {
    let last: AssignmentRecord | undefined;
    await this.poll(async () => {
      last = await readAssignmentOf(this.zk, this.paths, job);
      return last !== undefined && done(last, await readMembers(this.zk, this.paths));
    }, options, `the leader to update the assignment of ${job}`);
    return last!;
  }

  /** Waits until the leader's assignments match the plan of `rebalance`/`reshard`. */
  async waitForPlan(changes: readonly AssignmentChange[], options: WaitOptions = {}): Promise<void> {
    for (const c of changes) {
      await this.waitForAssignment(c.job, (a) => a.shards === c.shardsAfter && a.owners.every((o, i) => (o === null ? null : a.workers[o]) === c.after[i]), options);
    }
  }

  /** Waits until no item is assigned to the worker and none of its runs is still going. */
  async waitForDrain(workerId: string, options: WaitOptions = {}): Promise<void> {
    await this.poll(async () => {
      const jobs = await this.zk.getChildren(this.paths.jobs).catch(() => [] as string[]);
      const assignments = await readAllAssignments(this.zk, this.paths);
      for (const job of jobs) {
        const a = assignments.get(job);
        if (a?.owners.some((o) => o !== null && a.workers[o] === workerId)) return false;
      }
      // Its runs: what its members' ledgers have in flight.
      const members = (await readMembers(this.zk, this.paths)).filter((m) => m.info.id === workerId);
      for (const m of members) {
        const parts = await childrenIfExists(this.zk, this.paths.ledger(m.name));
        for (const part of parts) {
          const read = (await readLedgerPartNode(this.zk, childPath(this.paths.ledger(m.name), part)))?.part;
          if (read && (!read.ok || [...read.value.values()].some((e) => e.f.size > 0))) return false;
        }
      }
      return true;
    }, options, `worker ${workerId} to hand over its items and finish its runs`);
  }

  // ---- internals -------------------------------------------------------------------------------

  private async requireJob(job: string): Promise<{ definition: JobDefinition; version: number }> {
    const found = await this.zk.getDataIfExists(this.paths.job(job));
    const definition = decodeJob(found?.data);
    if (!found || !definition) throw new RequestError('NOT_FOUND', `no job named ${JSON.stringify(job)}`);
    return { definition, version: found.stat.version };
  }

  private requireItem(def: JobDefinition, item: number): void {
    if (!Number.isInteger(item) || item < 0 || item >= def.shards) {
      throw new RequestError('REQUEST_INVALID', `item must be an integer from 0 to ${def.shards - 1} for job ${def.name}, got ${JSON.stringify(item)}`);
    }
  }

  private async readState(job: string): Promise<{ control: JobControl; controlVersion: number; assignment: AssignmentRecord | undefined; members: Member[]; drained: Set<string> }> {
    const [control, assignment, members, drained] = await Promise.all([
      this.zk.getDataIfExists(this.paths.control(job)),
      readAssignmentOf(this.zk, this.paths, job),
      readMembers(this.zk, this.paths),
      this.zk.getChildren(this.paths.drains).catch(() => [] as string[]),
    ]);
    return {
      control: decodeControl(control?.data),
      controlVersion: control ? control.stat.version : -1,
      assignment,
      members,
      drained: new Set(drained),
    };
  }

  private change(before: JobDefinition, after: JobDefinition, state: Awaited<ReturnType<FleetOperator['readState']>>): AssignmentChange {
    const byId = (name: string | null | undefined) => (name ? (state.members.find((m) => m.name === name)?.info.id ?? state.assignment?.workers[name] ?? name) : null);
    const current = Array.from({ length: before.shards }, (_, i) => state.assignment?.owners[i] ?? null);
    const plan = planAssignment({ def: after, members: state.members, drained: state.drained, control: state.control, previous: current });
    const beforeIds = current.map(byId);
    const afterIds = plan.owners.map(byId);
    const moves = afterIds.filter((o, i) => i < beforeIds.length && beforeIds[i] !== null && beforeIds[i] !== o).length;
    return { job: before.name, shardsBefore: before.shards, shardsAfter: after.shards, before: beforeIds, after: afterIds, moves };
  }

  private async updateControl(job: string, mutate: (c: JobControl) => JobControl): Promise<void> {
    const found = await this.zk.getDataIfExists(this.paths.control(job));
    const next = mutate(decodeControl(found?.data));
    if (!found) await this.zk.mkdirp(this.paths.controls); // (made by the first leader; zkctl may come before it)
    const tx = this.zk.transaction();
    if (found) tx.setData(this.paths.control(job), encodeControl(next), found.stat.version);
    else tx.check(this.paths.job(job)).create(this.paths.control(job), encodeControl(next));
    await this.commit(tx, `update ${job}`);
  }

  private async commit(tx: ZkTransaction, what: string): Promise<void> {
    try {
      await this.zk.commit(tx);
    } catch (err) {
      if (err instanceof ZkTransactionError) {
        const reason = err.reason;
        if (reason instanceof BadVersionError || reason instanceof NodeExistsError) {
          throw new RequestError('REQUEST_CONFLICT', `${what}: changed by someone else meanwhile; nothing was written, try again`, { cause: err });
        }
        if (reason instanceof NoNodeError) throw new RequestError('NOT_FOUND', `${what}: ${err.failedOp?.path ?? 'a node'} no longer exists; nothing was written`, { cause: err });
        if (reason instanceof NotEmptyError) throw new RequestError('REQUEST_CONFLICT', `${what}: ${err.failedOp?.path} gained children meanwhile (a run started?); nothing was written`, { cause: err });
      }
      throw err;
    }
  }

  private async poll(check: () => Promise<boolean>, options: WaitOptions, what: string): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new RequestError('REQUEST_TIMEOUT', `timed out waiting for ${what}; the request itself was written`);
      await sleep(100, undefined, { signal: options.signal });
    }
  }
}
