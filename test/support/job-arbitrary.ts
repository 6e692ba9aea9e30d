import fc from 'fast-check';
import { JOB_DEFAULTS, MAX_FAILOVERS, MISFIRE_POLICIES, OVERLAP_POLICIES, SANDBOX_MODES, SHARDING_STRATEGIES, type JobDefinition } from '../../src/config/job-definition.js';

const CRONS = ['* * * * * *', '*/5 * * * * *', '0 0 * * *', '0 30 9 * * 1-5', '15 2 1 * *'];
const ZONES = ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York'];
const FIRST = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
const REST = [...FIRST, '-', '_', '.'];

/** A string of `first` then up to `max` characters of `rest` (cheaper than fc.stringMatching). */
function word(first: readonly string[], rest: readonly string[], max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...first), fc.array(fc.constantFrom(...rest), { maxLength: max })).map(([a, b]) => a + b.join(''));
}

/** A valid job definition with every default applied (what validateJob returns), fields varied within their bounds. */
export function validJob(): fc.Arbitrary<JobDefinition> {
  return fc.integer({ min: 1, max: 64 }).chain((shards) =>
    fc.record({
      name: word(FIRST, REST, 30),
      cron: fc.constantFrom(...CRONS),
      timeZone: fc.constantFrom(...ZONES),
      shards: fc.constant(shards),
      itemParameters: fc.dictionary(fc.integer({ min: 0, max: shards - 1 }).map(String), fc.string({ maxLength: 40 }), { maxKeys: shards }),
      jobParameter: fc.string({ maxLength: 100 }),
      target: fc.oneof(
        word(FIRST, FIRST, 20).map((h) => ({ handler: `./${h}.js` })),
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 5 }).filter((a) => a[0] !== '').map((command) => ({ command })),
        fc.string({ minLength: 1, maxLength: 60 }).filter((c) => c.trim() !== '').map((command) => ({ command })),
      ),
      strategy: fc.constantFrom(...SHARDING_STRATEGIES),
      overlap: fc.constantFrom(...OVERLAP_POLICIES),
      misfire: fc.constantFrom(...MISFIRE_POLICIES),
      maxCatchUp: fc.integer({ min: 1, max: 1000 }),
      failover: fc.boolean(),
      timeoutMs: fc.integer({ min: 0, max: 86_400_000 }),
      retry: fc.record({ attempts: fc.integer({ min: 1, max: 100 }), backoffMs: fc.integer({ min: 0, max: 60_000 }), extra: fc.integer({ min: 0, max: 60_000 }) })
        .map(({ attempts, backoffMs, extra }) => ({ attempts, backoffMs, maxBackoffMs: Math.max(JOB_DEFAULTS.timeoutMs, backoffMs + extra) })),
      description: fc.string({ maxLength: 100 }),
      sandbox: fc.constantFrom(...SANDBOX_MODES),
      maxFailovers: fc.integer({ min: 0, max: MAX_FAILOVERS }),
    }).map(({ target, sandbox, ...rest }): JobDefinition => ({ ...rest, ...target, sandbox: 'handler' in target ? sandbox : 'none' })),
  );
}
