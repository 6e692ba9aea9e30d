import { Executor } from '../../src/executor/executor.js';
import type { RunLedger } from '../../src/executor/run-ledger.js';
import type { HandlerLoader } from '../../src/executor/handler-loader.js';
import type { StageStore } from '../../src/executor/stage-store.js';
import type { JobContext } from '../../src/executor/job-context.js';
import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';
import { silentLogger } from '../../src/logging/create-logger.js';

/**
 * An executor of one every-second job `j` (2 items, one attempt) on a stand-in ledger, with
 * `handler` as its module handler: for tests of the executor's timing, not of ZooKeeper.
 */
export function ledgerExecutor(
  ledger: Pick<RunLedger, 'begin' | 'release' | 'recordAttempt'>,
  handler: (ctx: JobContext) => Promise<void> | void,
  options: { job?: Partial<JobDefinition>; leaseHeld?: () => boolean } = {},
): Executor {
  const def: JobDefinition = { ...JOB_DEFAULTS, name: 'j', cron: '* * * * * *', shards: 2, itemParameters: {}, handler: 'h.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 }, ...options.job };
  return new Executor({
    ledger: ledger as unknown as RunLedger,
    stages: { forRun: () => ({}) } as unknown as StageStore,
    loader: { load: async () => handler, resolvePath: (p: string) => p } as unknown as HandlerLoader,
    workerId: 'w',
    definitionOf: () => def,
    log: silentLogger(),
    leaseHeld: options.leaseHeld,
  });
}
