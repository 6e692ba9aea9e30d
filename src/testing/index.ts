/**
 * Real ZooKeeper for tests, the demo and benchmarks: local servers and ensembles on loopback,
 * `findZooKeeper` (env, container or local, per PRODUCT §6), four-letter words and polling;
 * network namespaces to partition processes from each other (`NetworkLab`).
 */
export { findZooKeeper, findInstallScript, ZOOKEEPER_IMAGE } from './find-zookeeper.js';
export type { FindZooKeeperOptions, FoundZooKeeper, ZooKeeperSourceKind } from './find-zookeeper.js';
export { ZooKeeperServer } from './zookeeper-server.js';
export type { ZooKeeperServerOptions, StopOptions } from './zookeeper-server.js';
export { ZooKeeperEnsemble } from './zookeeper-ensemble.js';
export type { ZooKeeperEnsembleOptions, EnsemblePorts, EnsembleServerInfo } from './zookeeper-ensemble.js';
export type { LocalZooKeeperOptions } from './local-zookeeper-options.js';
export { ZooKeeperStartError, ZooKeeperNotFoundError } from './zookeeper-errors.js';
export { fourLetterWord, isAlive, serverMode, servesDataDir, parseSrvr, parseMntr, FourLetterWordError } from '../zk/four-letter-word.js';
export type { ZooKeeperMode, SrvrInfo } from '../zk/four-letter-word.js';
export { isDockerReachable } from './docker-engine.js';
export { DEBIAN_ZOOKEEPER_JAR, DEFAULT_JVM_OPTIONS, findJava } from './java.js';
export { busyPorts, findFreePorts } from './free-port.js';
export { waitFor, WaitForTimeoutError } from './wait-for.js';
export type { WaitForOptions } from './wait-for.js';
export { WorkerFleet, repoRoot } from './worker-fleet.js';
export { NetworkLab, NETWORK_LAB_PREFIX } from './network-lab.js';
export type { NetworkLabOptions } from './network-lab.js';
export { NetworkNamespace, CUT_DIRECTIONS } from './network-namespace.js';
export type { Cut, CutDirection } from './network-namespace.js';
export { NetworkNamespaceError } from './network-namespace-error.js';
export { netnsSupport } from './netns-support.js';
export type { NetnsSupport } from './netns-support.js';
