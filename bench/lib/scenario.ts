import type { BenchTable } from './table.js';
import type { BenchCleanup } from './bench-cleanup.js';

/** What a scenario gets from the bench runner. */
export interface ScenarioContext {
  /** Shorter runs (smoke check of the bench itself); figures are not for publishing. */
  quick: boolean;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: stop measuring, then unwind (every `finally` still runs). */
  signal: AbortSignal;
  /** Everything started is registered here, so an interrupted bench stops it too. */
  cleanup: BenchCleanup;
  /** A fresh scratch directory for this scenario (logs, configs, records). */
  dir: string;
  /** Results of scenarios already run in this invocation (the peer scenario reuses ours). */
  previous: ReadonlyMap<string, ScenarioResult>;
}

/** What a scenario reports: tables for people, `data` for machines (written to bench/results/). */
export interface ScenarioResult {
  scenario: string;
  /** The parameters it ran with (jobs, items, workers, durations, session timeout...). */
  params: Record<string, unknown>;
  tables: BenchTable[];
  /** Figures checked against PRODUCT.md §5, one line each ("p99 lateness 3.1 ms ≤ 5 ms: met"). */
  targets: TargetCheck[];
  /** Raw figures (summaries, samples small enough to keep). */
  data: Record<string, unknown>;
  /** What limits the figure, caveats. */
  notes: string[];
}

export interface TargetCheck {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Scenario {
  name: string;
  /** One line for `npm run bench -- --list`. */
  summary: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
