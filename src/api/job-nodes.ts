import type { JobDefinition } from '../config/job-definition.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { childPath } from '../zk/zk-paths.js';
import type { ZkTransaction } from '../zk/zk-transaction.js';
import { encodeJob } from '../model/job-record.js';

/*
 * The set of znodes that makes up a job, written once. A job is its definition plus `items`, one
 * node per item and `triggers`, all created together (a worker registering the job, `zkctl apply`);
 * its assignment (in its group's node under `/assignments`) is written by the leader, its control
 * (`/controls/<job>`) by operators, and the children of an item (history, stages) by the workers
 * that run it. See docs/ARCHITECTURE.md.
 */

/** The persistent nodes of a job of `shards` items below its definition, parents first. */
export function jobNodes(paths: ZkPaths, job: string, shards: number): string[] {
  return [paths.items(job), ...itemNodes(paths, job, 0, shards), paths.triggers(job)];
}

/** Adds the creation of a whole job to `tx`: its definition, then {@link jobNodes}. */
export function createJob(tx: ZkTransaction, paths: ZkPaths, def: JobDefinition): void {
  tx.create(paths.job(def.name), encodeJob(def));
  for (const path of jobNodes(paths, def.name, def.shards)) tx.create(path);
}

/**
 * Adds the creation of the item nodes a job of `shards` items lacks: those of its items whose name
 * is not in `existing` (the children of its `items` node).
 */
export function createMissingItems(tx: ZkTransaction, paths: ZkPaths, job: string, shards: number, existing: ReadonlySet<string>): void {
  for (let i = 0; i < shards; i++) if (!existing.has(String(i))) tx.create(paths.item(job, i));
}

/** Adds the removal of an item node and of its `children` (history, stages) to `tx`. */
export function removeItem(tx: ZkTransaction, paths: ZkPaths, job: string, item: number, children: readonly string[]): void {
  const path = paths.item(job, item);
  for (const child of children) tx.remove(childPath(path, child));
  tx.remove(path);
}

function itemNodes(paths: ZkPaths, job: string, from: number, to: number): string[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => paths.item(job, from + k));
}
