/**
 * `npm run chaos -- [--duration 10m] [--seed N] [--workers 5] [--outage 20s] [--overlap]
 * [--partitions | --no-partitions] [--scripts] [--kinds sigstop,sigkill]`: runs the chaos suite and prints its markdown report (also
 * written to chaos/results/). Partition faults run when the machine allows them (root, `ip`,
 * `iptables`); `--partitions` insists (exit 2 when it cannot), `--no-partitions` leaves them out.
 * `--overlap`: faults overlap instead of coming one at a time. `--scripts`: the fleet also runs a
 * script job whose script ignores SIGTERM. `--kinds`: only these fault kinds (comma-separated), e.g.
 * `--kinds sigstop` to freeze workers over and over. Exit 1 when a check failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaosSuite } from './chaos-suite.js';
import { FAULT_KINDS, PARTITION_FAULT_KINDS } from './run-chaos.js';
import type { FaultKind } from './chaos-records.js';
import { netnsSupport } from '../src/testing/netns-support.js';
import { repoRoot } from '../src/testing/worker-fleet.js';
import { EXIT } from '../src/cli/exit-codes.js';

function duration(name: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) {
    process.stderr.write(`chaos: --${name} must look like 90s, 10m or 600 (seconds), got ${JSON.stringify(value)}\n`);
    process.exit(EXIT.USAGE);
  }
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

const USAGE = 'usage: npm run chaos -- [--duration 10m] [--seed N] [--workers 5] [--outage 20s] [--overlap] [--partitions | --no-partitions] [--scripts] [--kinds sigstop,sigkill]';

const OPTIONS = {
  duration: { type: 'string', default: '2m' },
  seed: { type: 'string' },
  workers: { type: 'string', default: '5' },
  outage: { type: 'string', default: '20s' },
  overlap: { type: 'boolean', default: false },
  scripts: { type: 'boolean', default: false },
  partitions: { type: 'boolean' },
  'no-partitions': { type: 'boolean' },
  kinds: { type: 'string' },
} as const;

/** The options given; an unknown option or a missing value is said plainly, with the usage (exit 2), not as a stack trace. */
function parseOptions(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>> {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(EXIT.USAGE);
  }
}

const { values } = parseOptions();
if (values.partitions && values['no-partitions']) {
  process.stderr.write('chaos: --partitions and --no-partitions contradict each other: give one\n');
  process.exit(EXIT.USAGE);
}
const partitions = values.partitions ? true : values['no-partitions'] ? false : undefined;
if (partitions === true) {
  const support = await netnsSupport();
  if (!support.ok) {
    process.stderr.write(`chaos: --partitions, but partition faults cannot run here: ${support.reason}\n`);
    process.exit(EXIT.USAGE);
  }
}
const kinds = values.kinds === undefined ? undefined : values.kinds.split(',').map((k) => k.trim());
for (const kind of kinds ?? []) {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    process.stderr.write(`chaos: --kinds: unknown fault kind ${JSON.stringify(kind)}; the kinds are ${FAULT_KINDS.join(', ')}\n`);
    process.exit(EXIT.USAGE);
  }
  if (partitions === false && (PARTITION_FAULT_KINDS as readonly string[]).includes(kind)) {
    process.stderr.write(`chaos: --kinds ${kind} needs partitions, but --no-partitions was given\n`);
    process.exit(EXIT.USAGE);
  }
}
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 2 || workers > 20) {
  process.stderr.write(`chaos: --workers must be a whole number from 2 to 20, got ${JSON.stringify(values.workers)}\n`);
  process.exit(EXIT.USAGE);
}
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isSafeInteger(seed)) {
  process.stderr.write(`chaos: --seed must be an integer, got ${JSON.stringify(values.seed)}\n`);
  process.exit(EXIT.USAGE);
}

const abort = new AbortController();
process.on('SIGINT', () => {
  process.stderr.write('chaos: stopping faults, settling and cleaning up (Ctrl-C again to force)\n');
  if (abort.signal.aborted) process.exit(EXIT.INTERRUPTED);
  abort.abort();
});

const result = await runChaosSuite({
  durationMs: duration('duration', values.duration!),
  outageMs: duration('outage', values.outage!),
  workers,
  seed,
  overlap: values.overlap!,
  scripts: values.scripts!,
  ...(kinds === undefined ? {} : { kinds: kinds as FaultKind[] }),
  ...(partitions === undefined ? {} : { partitions }),
  signal: abort.signal,
  log: (line: string) => process.stderr.write(`chaos: ${line}\n`),
});
const resultsDir = join(repoRoot(), 'chaos', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, result.report);
process.stdout.write(`${result.report}\n`);
process.stderr.write(`chaos: report written to ${file}; logs in ${result.dir}\n`);
process.exit(result.violations > 0 ? EXIT.FAILED : EXIT.OK);
