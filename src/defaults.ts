/**
 * The defaults of the settings that more than one part of zkshard falls back on: the worker's
 * config file (`config/worker-config.ts`), the `Worker` and `ZkClient` options given in code, zkctl
 * and the console. Defined once here and imported everywhere (this module imports nothing, so
 * every layer may use it). A job's own defaults are `JOB_DEFAULTS` and `DEFAULT_RETRY` in
 * `config/job-definition.ts`; the largest request is `DEFAULT_MAX_REQUEST_BYTES` in `zk/multi-size.ts`.
 */
const ZOOKEEPER_PORT = 2181;

export const DEFAULTS = {
  zookeeper: {
    /** ZooKeeper's client port, where a connection string names none. @default 2181 */
    port: ZOOKEEPER_PORT,
    /** @default '127.0.0.1:2181' */
    connect: `127.0.0.1:${ZOOKEEPER_PORT}`,
    /** Root znode of the fleet. @default 'zkshard' */
    namespace: 'zkshard',
    /** Requested session timeout. @default 6000 */
    sessionTimeoutMs: 6000,
  },
  worker: {
    /** Relative weight for balancing. @default 1 */
    capacity: 1,
    /** How long a shutdown waits for running items before aborting them. @default 30000 */
    shutdownGraceMs: 30_000,
    /** Largest clock difference to ZooKeeper tolerated (worker, `zkctl status`/`doctor`). @default 5000 */
    maxClockSkewMs: 5000,
    /** An idle worker checks its clock against ZooKeeper's this often. @default 30000 */
    clockCheckIntervalMs: 30_000,
    /** Interface of the `/metrics`, `/healthz`, `/readyz` endpoint. @default '127.0.0.1' */
    httpHost: '127.0.0.1',
  },
} as const;
