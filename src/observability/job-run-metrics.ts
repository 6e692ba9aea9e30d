import { RUN_OUTCOMES, type RunOutcome } from '../model/progress-record.js';
import { BucketCounts, bucketPrefixes } from './bucket-counts.js';
import { escapeLabelValue } from './label-value.js';

/** `zkshard_run_duration_seconds`' upper bounds, seconds. */
export const RUN_DURATION_BUCKETS: readonly number[] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export const RUNS_STARTED = { name: 'zkshard_runs_started_total', help: 'Runs started, by job' } as const;
export const FIRES_SKIPPED = { name: 'zkshard_fires_skipped_total', help: 'Fires dropped by the overlap policy because the item still ran, by job' } as const;
export const FIRES_MISSED = { name: 'zkshard_fires_missed_total', help: 'Fires recorded as missed (no owner, outage, misfire policy), by job' } as const;
export const FAILOVERS = { name: 'zkshard_failovers_total', help: 'Interrupted fires this worker ran again after taking their item over, by job' } as const;

/** The counters by job alone, in the order they are written; `JobRuns.counts` by the same index. */
const JOB_COUNTERS = [RUNS_STARTED, FIRES_SKIPPED, FIRES_MISSED, FAILOVERS] as const;
const STARTED = 0;
const SKIPPED = 1;
const MISSED = 2;
const FAILED_OVER = 3;

export const RUNS_FINISHED = {
  name: 'zkshard_runs_finished_total',
  help: 'Runs finished, by job and outcome (success, failed, timeout, aborted, interrupted)',
} as const;

export const RUN_DURATION = {
  name: 'zkshard_run_duration_seconds',
  help: 'Run duration (all attempts of a fire), by job',
} as const;

/** One job's runs: started, ended by outcome, and their durations. */
interface JobRuns {
  /** The job's label, escaped once: `,zkshard_job="…"`. */
  readonly label: string;
  /** By the index of the counter in `JOB_COUNTERS`; -1 until its first event (no series yet). */
  readonly counts: Float64Array;
  /** By the index of the outcome in `RUN_OUTCOMES`; -1 for an outcome never seen (no series yet). */
  readonly finished: Float64Array;
  /** Undefined until a run ended (no series yet). */
  duration: BucketCounts | undefined;
}

const DURATION_BUCKETS = bucketPrefixes(RUN_DURATION.name, RUN_DURATION_BUCKETS);

const OUTCOME_INDEX = new Map<RunOutcome, number>(RUN_OUTCOMES.map((o, k) => [o, k]));

/**
 * A worker's runs and fires by job — `zkshard_runs_started_total`, `zkshard_fires_skipped_total`,
 * `zkshard_fires_missed_total`, `zkshard_failovers_total`, `zkshard_runs_finished_total`,
 * `zkshard_run_duration_seconds` — in Prometheus' text format, as prom-client writes them.
 *
 * Not prom-client's `Counter` and `Histogram`: they hash a label object on every observation (about
 * 900 bytes of garbage a run, 2,000 runs a second on a worker of a 1,000-job fleet) and write a
 * scrape through one value object per series, 16 per job for the histogram: 22 MB and 40–110 ms
 * of the worker's event loop per scrape at 1,000 jobs, during which no handler is entered. Here a
 * run is a few array increments once its job has been seen, and a scrape is one string.
 */
export class JobRunMetrics {
  private readonly jobs = new Map<string, JobRuns>();

  /** Counts one run started: a failover's, and with the fires its begin recorded as missed. */
  onRunStarted(job: string, failover = false, missed = 0): void {
    const runs = this.of(job);
    count(runs, STARTED, 1);
    if (failover) count(runs, FAILED_OVER, 1);
    if (missed > 0) count(runs, MISSED, missed);
  }

  /** Counts one fire the overlap policy dropped. */
  onFireSkipped(job: string): void {
    count(this.of(job), SKIPPED, 1);
  }

  /** Counts one run's end. */
  onRunFinished(job: string, outcome: RunOutcome, durationMs: number): void {
    const runs = this.of(job);
    const k = OUTCOME_INDEX.get(outcome)!;
    runs.finished[k] = runs.finished[k]! < 0 ? 1 : runs.finished[k]! + 1;
    (runs.duration ??= new BucketCounts(RUN_DURATION_BUCKETS)).observe(durationMs / 1000);
  }

  /** Its metrics in Prometheus' text format (no series of a job before its first event). */
  text(): string {
    const counters = JOB_COUNTERS.map((c) => [`# HELP ${c.name} ${c.help}`, `# TYPE ${c.name} counter`]);
    const finished: string[] = [`# HELP ${RUNS_FINISHED.name} ${RUNS_FINISHED.help}`, `# TYPE ${RUNS_FINISHED.name} counter`];
    const duration: string[] = [`# HELP ${RUN_DURATION.name} ${RUN_DURATION.help}`, `# TYPE ${RUN_DURATION.name} histogram`];
    for (const runs of this.jobs.values()) {
      const { label } = runs;
      const own = `{${label.slice(1)}`;
      for (let c = 0; c < JOB_COUNTERS.length; c++) {
        const n = runs.counts[c]!;
        if (n >= 0) counters[c]!.push(`${JOB_COUNTERS[c]!.name}${own}} ${n}`);
      }
      for (let k = 0; k < RUN_OUTCOMES.length; k++) {
        const n = runs.finished[k]!;
        if (n >= 0) finished.push(`${RUNS_FINISHED.name}${own},outcome="${RUN_OUTCOMES[k]}"} ${n}`);
      }
      runs.duration?.write(duration, RUN_DURATION.name, DURATION_BUCKETS, label);
    }
    return [...counters, finished, duration].map((lines) => lines.join('\n')).join('\n\n');
  }

  private of(job: string): JobRuns {
    let runs = this.jobs.get(job);
    if (runs === undefined) {
      runs = { label: `,zkshard_job="${escapeLabelValue(job)}"`, counts: new Float64Array(JOB_COUNTERS.length).fill(-1), finished: new Float64Array(RUN_OUTCOMES.length).fill(-1), duration: undefined };
      this.jobs.set(job, runs);
    }
    return runs;
  }
}

/** Adds `n` to a job's counter `c` (its series made by its first event). */
function count(runs: JobRuns, c: number, n: number): void {
  runs.counts[c] = runs.counts[c]! < 0 ? n : runs.counts[c]! + n;
}
