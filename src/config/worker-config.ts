import { hostname } from 'node:os';
import type { JobDefinition } from './job-definition.js';
import { DEFAULT_MAX_REQUEST_BYTES } from '../zk/multi-size.js';
import { DEFAULTS } from '../defaults.js';
import type { ZkAcl, ZkCredentials } from '../zk/zk-acl.js';
import type { ZkTlsOptions } from '../zk/zk-tls.js';
import type { HistoryConfig } from './history-config.js';

/** A job as a worker's config file declares it. */
export interface WorkerJobConfig {
  /** The definition with every default applied. */
  definition: JobDefinition;
  /** true: this file's definition replaces the one in ZooKeeper. @default false */
  overwrite: boolean;
}

/** A worker's configuration: the YAML file, with defaults, env and flag overrides applied. */
export interface WorkerConfig {
  zookeeper: {
    /** Connection string, `host:port[,host:port...][/chroot]`. Env `ZKSHARD_ZK`, flag `--zk`. @default '127.0.0.1:2181' */
    connect: string;
    /** Root znode of the fleet, `[A-Za-z0-9][A-Za-z0-9._-]*` (no slashes). Env `ZKSHARD_NAMESPACE`, flag `--namespace`. @default 'zkshard' */
    namespace: string;
    /** Requested session timeout, 1000..600000. @default 6000 */
    sessionTimeoutMs: number;
    /**
     * Largest request sent to ZooKeeper, in bytes, 524288..268435456: keep it below the
     * `jute.maxbuffer` of every server (1,048,575 by default). A worker begins or ends up to about
     * 2,700 items of one fire instant per request at the default. @default 1000000
     */
    maxRequestBytes: number;
    /**
     * The fleet identity: env `ZKSHARD_ZK_AUTH=user:password`, else `zookeeper.auth:
     * { scheme: digest, credentialsFile }` (never a flag). @default undefined (no credentials: an open namespace)
     */
    credentials?: ZkCredentials;
    /** `zookeeper.acl`: the other identities every node grants, `digest:<user>:<hash>:<perms>`. @default [] */
    acl?: ZkAcl[];
    /** `zookeeper.tls: { caFile, certFile?, keyFile? }`: connect to the servers' `secureClientPort`. @default undefined (plain TCP) */
    tls?: ZkTlsOptions;
  };
  worker: {
    /** `[A-Za-z0-9][A-Za-z0-9._@:-]*`, at most 128 characters. Env `ZKSHARD_WORKER_ID`, flag `--id`. @default `${os.hostname()}-${process.pid}` */
    id: string;
    /** Free labels, e.g. `{ zone: a }`. @default {} */
    labels: Record<string, string>;
    /** Relative weight for balancing, a finite number > 0. @default 1 */
    capacity: number;
    /** How long a shutdown waits for running items before aborting them. @default 30000 */
    shutdownGraceMs: number;
    /** Largest clock difference to ZooKeeper tolerated before the worker stops firing. @default 5000 */
    maxClockSkewMs: number;
    /** The `/metrics`, `/healthz`, `/readyz` endpoint (port 0 picks a free one). @default undefined (off) */
    http?: { host: string; port: number };
  };
  logging: {
    /** A pino level: fatal, error, warn, info, debug, trace or silent. @default 'info' */
    level: string;
    /** @default 'json' */
    format: 'json' | 'pretty';
  };
  /** `history:` (env `ZKSHARD_PG_URL`): every run, missed and skipped fire in PostgreSQL. @default undefined (ZooKeeper's bounded history only) */
  history?: HistoryConfig;
  /** Jobs declared by this file, in file order. @default [] */
  jobs: WorkerJobConfig[];
  /** Absolute path of the file loaded, when there is one. */
  file?: string;
  /** Directory relative handler and command paths resolve against: the file's directory. */
  baseDir: string;
}

/** A ZooKeeper connection string: `host:port[,host:port...][/chroot]`, no spaces. */
export const CONNECT_PATTERN = /^[^\s,/]+(,[^\s,/]+)*(\/[^\s]*)?$/;
export const WORKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@:-]*$/;
export const MAX_WORKER_ID_LENGTH = 128;
export const MIN_SESSION_TIMEOUT_MS = 1000;
export const MAX_SESSION_TIMEOUT_MS = 600_000;
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const LOG_FORMATS: readonly WorkerConfig['logging']['format'][] = ['json', 'pretty'];

/** `<hostname>-<pid>`, made to fit {@link WORKER_ID_PATTERN}. */
export function defaultWorkerId(): string {
  const host = hostname().replace(/[^A-Za-z0-9._@:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'worker';
  return `${host.slice(0, MAX_WORKER_ID_LENGTH - 12)}-${process.pid}`;
}

/** The defaults of every setting but `jobs`, `file` and `baseDir`. */
export function workerConfigDefaults(): Pick<WorkerConfig, 'zookeeper' | 'worker' | 'logging'> {
  return {
    zookeeper: { connect: DEFAULTS.zookeeper.connect, namespace: DEFAULTS.zookeeper.namespace, sessionTimeoutMs: DEFAULTS.zookeeper.sessionTimeoutMs, maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES },
    worker: { id: defaultWorkerId(), labels: {}, capacity: DEFAULTS.worker.capacity, shutdownGraceMs: DEFAULTS.worker.shutdownGraceMs, maxClockSkewMs: DEFAULTS.worker.maxClockSkewMs },
    logging: { level: 'info', format: 'json' },
  };
}
