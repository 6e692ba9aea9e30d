import { Executor, type ExecutorLedger } from '../../src/executor/executor.js';
import type { RunLedger } from '../../src/executor/run-ledger.js';
import type { HandlerLoader } from '../../src/executor/handler-loader.js';
import type { StageStore } from '../../src/executor/stage-store.js';
import type { JobContext } from '../../src/executor/job-context.js';
import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { Clock } from '../../src/clock/clock.js';

/**
 * An executor of one every-second job `j` (2 items, one attempt) on a stand-in ledger, with
 * `handler` as its module handler: for tests of the executor's timing, not of ZooKeeper. A ledger
 * without fence methods has a fence that never moves.
 */
export function ledgerExecutor(
  ledger: Pick<RunLedger, 'begin' | 'release' | 'recordAttempt'> & Partial<Pick<RunLedger, 'fenceMoved' | 'confirmFence'>>,
  handler: (ctx: JobContext) => Promise<void> | void,
  options: { job?: Partial<JobDefinition>; leaseHeld?: () => boolean; clock?: Clock } = {},
): Executor {
  const def: JobDefinition = { ...JOB_DEFAULTS, name: 'j', cron: '* * * * * *', shards: 2, itemParameters: {}, handler: 'h.js', retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 100 }, ...options.job };
  const asked: ExecutorLedger = {
    begin: (requests) => ledger.begin(requests),
    releaseThen: (req, done) => void ledger.release(req).then(done, () => done(false)),
    recordAttempt: (job, item, fireTime, attempt) => ledger.recordAttempt(job, item, fireTime, attempt),
    fenceMoved: (job, item) => ledger.fenceMoved?.(job, item) ?? false,
    confirmFence: (job, item, fireTime) => ledger.confirmFence?.(job, item, fireTime) ?? Promise.resolve(true),
  };
  return new Executor({
    ledger: asked,
    stages: { forRun: () => ({}) } as unknown as StageStore,
    loader: { load: async () => handler, loaded: () => handler, resolvePath: (p: string) => p },
    workerId: 'w',
    definitionOf: () => def,
    log: silentLogger(),
    leaseHeld: options.leaseHeld,
    clock: options.clock,
  });
}
