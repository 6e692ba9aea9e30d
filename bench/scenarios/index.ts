import type { Scenario } from '../lib/scenario.js';
import { failover } from './failover.js';
import { handoff } from './handoff.js';
import { lateness } from './lateness.js';
import { peer } from './peer.js';

/** Every scenario, in the order `npm run bench` runs them (peer last: it reuses ours). */
export const SCENARIOS: readonly Scenario[] = [lateness, failover, handoff, peer];
