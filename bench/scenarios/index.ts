import type { Scenario } from '../lib/scenario.js';
import { consoleScenario } from './console.js';
import { coordination } from './coordination.js';
import { dkronShapes } from './dkron-shapes.js';
import { failover } from './failover.js';
import { forcedOperation } from './forced-operation.js';
import { handoff } from './handoff.js';
import { history } from './history.js';
import { historyFleet } from './history-fleet.js';
import { lateness } from './lateness.js';
import { memory } from './memory.js';
import { peer } from './peer.js';
import { reassignment } from './reassignment.js';
import { rebalance } from './rebalance.js';
import { sandbox } from './sandbox.js';
import { soak } from './soak.js';
import { zkPause } from './zk-pause.js';

/** Every scenario, in the order `npm run bench` runs them (peer last: it reuses ours). */
export const SCENARIOS: readonly Scenario[] = [lateness, dkronShapes, soak, zkPause, forcedOperation, failover, reassignment, handoff, coordination, rebalance, memory, sandbox, history, historyFleet, consoleScenario, peer];
