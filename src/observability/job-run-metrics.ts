import { RUN_OUTCOMES, type RunOutcome } from '../model/progress-record.js';

/** `zkshard_run_duration_seconds`' upper bounds, seconds. */
export const RUN_DURATION_BUCKETS: readonly number[] = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export const RUNS_FINISHED = {
  name: 'zkshard_runs_finished_total',
  help: 'Runs finished, by job and outcome (success, failed, timeout, aborted, interrupted)',
} as const;

export const RUN_DURATION = {
  name: 'zkshard_run_duration_seconds',
  help: 'Run duration (all attempts of a fire), by job',
} as const;

/** One job's runs ended: counts by outcome, and the duration histogram's buckets (not cumulative) and sum. */
interface JobRuns {
  /** The job's label value, escaped once. */
  readonly label: string;
  /** By the index of the outcome in `RUN_OUTCOMES`; -1 for an outcome never seen (no series yet). */
  readonly finished: Float64Array;
  /** By bucket; the last one is above every bound (`+Inf`). */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** Each bucket's series up to its job's label value, `+Inf` last. */
const BUCKET_PREFIXES = [...RUN_DURATION_BUCKETS, '+Inf'].map((le) => `${RUN_DURATION.name}_bucket{le="${le}",zkshard_job="`);

const OUTCOME_INDEX = new Map<RunOutcome, number>(RUN_OUTCOMES.map((o, k) => [o, k]));

/**
 * The runs a worker finished, by job: `zkshard_runs_finished_total` and
 * `zkshard_run_duration_seconds`, in Prometheus' text format, as prom-client writes them.
 *
 * Not prom-client's `Counter` and `Histogram`: they hash a label object on every observation (about
 * 900 bytes of garbage a run, 2,000 runs a second on a worker of a 1,000-job fleet) and write a
 * scrape through one value object per series, 16 per job for the histogram: 22 MB and 40–110 ms
 * of the worker's event loop per scrape at 1,000 jobs, during which no handler is entered. Here a
 * run's end is two array increments once its job has been seen, and a scrape is one string.
 */
export class JobRunMetrics {
  private readonly jobs = new Map<string, JobRuns>();

  /** Counts one run's end. */
  onRunFinished(job: string, outcome: RunOutcome, durationMs: number): void {
    let runs = this.jobs.get(job);
    if (runs === undefined) {
      runs = { label: escapeLabelValue(job), finished: new Float64Array(RUN_OUTCOMES.length).fill(-1), buckets: new Float64Array(RUN_DURATION_BUCKETS.length + 1), sum: 0, count: 0 };
      this.jobs.set(job, runs);
    }
    const k = OUTCOME_INDEX.get(outcome)!;
    runs.finished[k] = runs.finished[k]! < 0 ? 1 : runs.finished[k]! + 1;
    const seconds = durationMs / 1000;
    let b = 0;
    while (b < RUN_DURATION_BUCKETS.length && seconds > RUN_DURATION_BUCKETS[b]!) b++;
    runs.buckets[b]!++;
    runs.sum += seconds;
    runs.count++;
  }

  /** Both metrics in Prometheus' text format (no series for a job before its first run's end). */
  text(): string {
    const finished: string[] = [`# HELP ${RUNS_FINISHED.name} ${RUNS_FINISHED.help}`, `# TYPE ${RUNS_FINISHED.name} counter`];
    const duration: string[] = [`# HELP ${RUN_DURATION.name} ${RUN_DURATION.help}`, `# TYPE ${RUN_DURATION.name} histogram`];
    for (const runs of this.jobs.values()) {
      const { label } = runs;
      for (let k = 0; k < RUN_OUTCOMES.length; k++) {
        const n = runs.finished[k]!;
        if (n >= 0) finished.push(`${RUNS_FINISHED.name}{zkshard_job="${label}",outcome="${RUN_OUTCOMES[k]}"} ${n}`);
      }
      let below = 0;
      for (let b = 0; b < RUN_DURATION_BUCKETS.length; b++) {
        below += runs.buckets[b]!;
        duration.push(`${BUCKET_PREFIXES[b]}${label}"} ${below}`);
      }
      duration.push(`${BUCKET_PREFIXES[BUCKET_PREFIXES.length - 1]}${label}"} ${runs.count}`, `${RUN_DURATION.name}_sum{zkshard_job="${label}"} ${runs.sum}`, `${RUN_DURATION.name}_count{zkshard_job="${label}"} ${runs.count}`);
    }
    return `${finished.join('\n')}\n\n${duration.join('\n')}`;
  }
}

/** A label value as the text format wants it (as prom-client escapes it). */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
