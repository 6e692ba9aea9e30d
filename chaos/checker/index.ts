/** The chaos checker: pure checks over a chaos run's records, and the markdown report. */
export type { CheckName, CheckResult, Violation } from './violation.js';
export { compareTokens, parseToken } from './compare-tokens.js';
export { buildRunIntervals, fireId, runKey, type RunEnding, type RunInterval, type RunIntervals } from './build-run-intervals.js';
export { checkStoreWrites, type StoreWriteCounts, type StoreWriteResult } from './check-store-writes.js';
export { checkOverlaps, type OverlapCounts, type OverlapResult } from './check-overlaps.js';
export {
  checkCoverage, type CoverageCounts, type CoverageResult, type CoverageWindow, type FireGap,
} from './check-coverage.js';
export { checkRecordedOnce, type RecordedOnceCounts } from './check-recorded-once.js';
export { checkNoStartAfterLoss, type StartAfterLossCounts, type StartAfterLossResult } from './check-no-start-after-loss.js';
export { checkWorkerExits, type WorkerEnd, type WorkerExitCounts, type WorkerExitResult } from './check-worker-exits.js';
export { checkConvergence, type ConvergenceMeasure, type ConvergenceResult } from './check-convergence.js';
export { renderReport, summaryViolations, REPORT_VIOLATION_LIMIT, type ChaosSummary } from './render-report.js';
export { formatDuration } from './format-duration.js';
export { formatInstant } from './format-instant.js';
