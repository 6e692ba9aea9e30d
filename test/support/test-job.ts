import { JOB_DEFAULTS, type JobDefinition } from '../../src/config/job-definition.js';
import { RECORD_HANDLER } from './worker-process.js';

/**
 * A complete job definition for tests: the documented defaults, the record fixture as handler,
 * an every-second cron and 4 items, a fast retry policy; `extra` overrides any of it.
 */
export function testJob(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
  return {
    ...JOB_DEFAULTS,
    name,
    cron: '* * * * * *',
    shards: 4,
    itemParameters: {},
    handler: RECORD_HANDLER,
    retry: { attempts: 1, backoffMs: 100, maxBackoffMs: 1000 },
    ...extra,
  };
}
