import type { Scenario } from '../lib/scenario.js';
import { runRebalance, type RebalancePlan } from '../rebalance/run-rebalance.js';

const FULL: RebalancePlan = { workers: 50, jobs: 100, itemsPerJob: 100, periodS: 20, events: 6, allocation: { sizes: [10_000, 100_000], workers: 50, warmup: 10, repeats: 20 }, startBatch: 10 };
const QUICK: RebalancePlan = { workers: 20, jobs: 20, itemsPerJob: 50, periodS: 5, events: 2, allocation: { sizes: [10_000, 100_000], workers: 50, warmup: 3, repeats: 5 }, startBatch: 10 };

/** Rebalance cost: moves against the minimum, convergence after a leave/join, allocation time. */
export const rebalance: Scenario = {
  name: 'rebalance',
  summary: '10,000 items over 50 in-process workers: one leaves, one joins (moves vs minimum, time to converge); sticky allocation of 100k items',
  run: (ctx) => runRebalance(ctx, ctx.quick ? QUICK : FULL),
};
