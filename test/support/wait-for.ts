/**
 * `waitFor(condition, { timeoutMs, intervalMs, message })`: poll a sync or async condition until it
 * is truthy, with a deadline and a descriptive error. Tests never sleep a fixed time: they wait for
 * the state they expect. Shared with the demo and benchmarks, hence it lives in `src/testing`.
 */
export { waitFor, WaitForTimeoutError } from '../../src/testing/wait-for.js';
export type { WaitForOptions } from '../../src/testing/wait-for.js';
