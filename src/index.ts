/**
 * zkshard: a ZooKeeper-coordinated sharding job scheduler.
 *
 * @example A job handler (default-export it from the module named by `handler:`):
 * ```ts
 * import { defineJob } from 'zkshard';
 * export default defineJob(async (ctx) => {
 *   const rows = await ctx.stage('fetch', () => fetchRows({ mod: ctx.shards, item: ctx.item }));
 *   await ctx.stage('write', () => store.write(rows, { fencingToken: ctx.fencingToken }));
 * });
 * ```
 */
export { defineJob, type JobContext, type JobHandler } from './executor/job-context.js';
export { Worker, type WorkerOptions, type WorkerState } from './worker/worker.js';
export type { JobDefinition, OverlapPolicy, MisfirePolicy, ShardingStrategyName, RetryPolicy } from './config/job-definition.js';
export { ZkshardError } from './errors/zkshard-error.js';
export { ConfigError, type ConfigProblem } from './errors/config-error.js';
export { LeaseLostError } from './errors/lease-lost-error.js';
export { ShutdownError } from './errors/shutdown-error.js';
export { RunTimeoutError } from './errors/run-timeout-error.js';
export { MalformedDataError } from './errors/malformed-data-error.js';
export { VERSION } from './version.js';
