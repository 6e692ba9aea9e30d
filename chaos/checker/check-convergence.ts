import type { CheckResult, Violation } from './violation.js';

/** How fast assignments converged after faults, as the harness measured it. */
export interface ConvergenceMeasure {
  /** The slowest convergence observed, ms. */
  worstMs: number;
  /** The most it may take, ms. */
  boundMs: number;
  /** Convergences measured. */
  samples: number;
}

export type ConvergenceResult = CheckResult<ConvergenceMeasure>;

/**
 * "Assignments converge within the bound after every fault": one violation when the worst
 * measured convergence exceeds the bound (`worstMs > boundMs`). Pure: no I/O, no clock.
 */
export function checkConvergence(measure: ConvergenceMeasure): ConvergenceResult {
  const violations: Violation[] = measure.worstMs > measure.boundMs
    ? [{
        check: 'convergence',
        detail: `the slowest of ${measure.samples} convergences took ${measure.worstMs} ms, more than the bound of ${measure.boundMs} ms`,
      }]
    : [];
  return { violations, counts: { ...measure } };
}
