import { DEFAULT_RETRY, JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';

/** The job set of the rebalance scenario. */
export interface RebalanceJobsOptions {
  jobs: number;
  itemsPerJob: number;
  /** Seconds between two fires of a job; divides 60. */
  periodS: number;
  /** Absolute path of the handler module. */
  handler: string;
}

/**
 * `jobs` sticky jobs of `itemsPerJob` items each, every one firing every `periodS` seconds; job k
 * fires at second `k mod periodS` of each period, so the fleet fires the same number of items every
 * second instead of all of them at one instant.
 */
export function rebalanceJobs(opts: RebalanceJobsOptions): JobDefinition[] {
  if (!(Number.isInteger(opts.periodS) && opts.periodS >= 1 && 60 % opts.periodS === 0)) {
    throw new RangeError(`rebalance jobs: periodS must divide 60, got ${opts.periodS}`);
  }
  return Array.from({ length: opts.jobs }, (_, k) => ({
    ...JOB_DEFAULTS,
    name: `rb-${String(k).padStart(3, '0')}`,
    cron: opts.periodS === 1 ? '* * * * * *' : `${k % opts.periodS}/${opts.periodS} * * * * *`,
    shards: opts.itemsPerJob,
    itemParameters: {},
    handler: opts.handler,
    retry: { ...DEFAULT_RETRY },
    description: 'zkshard bench: rebalance',
  }));
}
