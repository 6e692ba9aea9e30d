import type { Scenario } from '../lib/scenario.js';
import { lateness } from './lateness.js';

/** Every scenario, in the order `npm run bench` runs them (peer last: it reuses ours). */
export const SCENARIOS: readonly Scenario[] = [lateness];
