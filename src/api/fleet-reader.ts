import { hostname } from 'node:os';
import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { NodeExistsError, NoNodeError } from '../zk/zk-errors.js';
import { encodeJson } from '../model/json-codec.js';
import { RequestError } from '../errors/request-error.js';
import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH } from '../config/job-definition.js';
import { readFleetSnapshot, type FleetSnapshot } from './fleet-snapshot.js';
import {
  jobSummaries, jobView, statusView, workersView,
  type ClockSkew, type FleetStatus, type JobSummary, type JobView, type ViewOptions, type WorkerView,
} from './fleet-views.js';
import { readTree, type TreeNode } from './fleet-tree.js';

export type { ClockSkew, FleetStatus, FleetWarning, ItemView, JobState, JobSummary, JobView, WarningKind, WorkerState, WorkerView } from './fleet-views.js';
export type { NodeKind, TreeNode } from './fleet-tree.js';

/**
 * Read side of the operator API (`zkctl status|workers|jobs|job|tree`, the future console):
 * reads a namespace and returns plain, JSON-safe objects whose shapes docs/ZKCTL.md documents.
 * Does no I/O until a method is called. `status()` also touches `/<ns>/clock` to measure clock skew.
 */
export class FleetReader {
  constructor(
    private readonly zk: ZkClient,
    private readonly paths: ZkPaths,
    private readonly options: ViewOptions = {},
  ) {}

  /** Leader, worker counts, jobs, items without an owner, warnings (with clock skew). */
  async status(): Promise<FleetStatus> {
    const snapshot = await this.snapshot();
    const clock = await this.clockSkew().catch(() => null);
    return statusView(snapshot, this.zk.connectString, clock, this.options);
  }

  /** Every live member, leader first. With `id`, only that worker's members (NOT_FOUND when none). */
  async workers(id?: string): Promise<WorkerView[]> {
    const all = workersView(await this.snapshot());
    if (id === undefined) return all;
    const mine = all.filter((w) => w.id === id);
    if (mine.length === 0) {
      throw new RequestError('NOT_FOUND', `no live worker with id ${JSON.stringify(id)}${all.length ? ` (live: ${all.map((w) => w.id).join(', ')})` : ' (no worker is live)'}`);
    }
    return mine;
  }

  async jobs(): Promise<JobSummary[]> {
    return jobSummaries(await this.snapshot());
  }

  /** One job with its items. @throws RequestError REQUEST_INVALID for a malformed name, NOT_FOUND for an unknown job. */
  async job(name: string): Promise<JobView> {
    checkJobName(name);
    return jobView(await this.snapshot([name]), name);
  }

  /** The namespace (or a subtree: `path` is relative to it) with node kinds and short contents. */
  async tree(path = '/', depth?: number): Promise<TreeNode> {
    return readTree(this.zk, this.paths, path, depth);
  }

  /** Everything the views are computed from (for `watch` and `doctor`); all jobs, or `only` these. */
  snapshot(only?: readonly string[]): Promise<FleetSnapshot> {
    return readFleetSnapshot(this.zk, this.paths, only);
  }

  /**
   * Measures this machine's clock against ZooKeeper's: writes `/<ns>/clock` and compares its
   * `mtime` (the server's clock) with the middle of the round trip.
   * @throws RequestError NOT_FOUND when the namespace does not exist.
   */
  async clockSkew(): Promise<ClockSkew> {
    for (let attempt = 0; ; attempt++) {
      const data = encodeJson({ host: hostname(), pid: process.pid, at: new Date().toISOString() });
      const before = Date.now();
      try {
        const stat = await this.zk.setData(this.paths.clock, data);
        const after = Date.now();
        return { skewMs: Math.round((before + after) / 2 - stat.mtime), uncertaintyMs: Math.ceil((after - before) / 2) };
      } catch (err) {
        if (!(err instanceof NoNodeError) || attempt > 0) throw err;
      }
      try {
        await this.zk.create(this.paths.clock, data);
      } catch (err) {
        if (err instanceof NoNodeError) throw new RequestError('NOT_FOUND', `namespace ${this.paths.root} does not exist on ${this.zk.connectString}`);
        if (!(err instanceof NodeExistsError)) throw err;
      }
    }
  }
}

/** @throws RequestError REQUEST_INVALID unless `name` is a valid job name. */
export function checkJobName(name: string): void {
  if (typeof name !== 'string' || !JOB_NAME_PATTERN.test(name) || name.length > MAX_JOB_NAME_LENGTH) {
    throw new RequestError('REQUEST_INVALID', `invalid job name ${JSON.stringify(name)}: must match [a-z0-9][a-z0-9-_.]* (at most ${MAX_JOB_NAME_LENGTH} characters)`);
  }
}
