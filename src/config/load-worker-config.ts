import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors/config-error.js';
import { ConfigReader } from './config-reader.js';
import { validateJobList } from './validate-job.js';
import { MAX_MAX_REQUEST_BYTES, MIN_MAX_REQUEST_BYTES } from '../zk/multi-size.js';
import { readZooKeeperSecurity } from './read-zookeeper-security.js';
import { readHistoryConfig } from './read-history-config.js';
import {
  LOG_FORMATS, LOG_LEVELS, MAX_SESSION_TIMEOUT_MS, MAX_WORKER_ID_LENGTH, MIN_SESSION_TIMEOUT_MS,
  CONNECT_PATTERN, WORKER_ID_PATTERN, workerConfigDefaults, type WorkerConfig,
} from './worker-config.js';
import { DEFAULTS } from '../defaults.js';
import { NAMESPACE_PATTERN } from '../zk/zk-paths.js';

/** Values from command-line flags; they win over the environment, which wins over the file. */
export interface WorkerConfigOverrides {
  /** `--zk`: ZooKeeper connection string. */
  zk?: string;
  /** `--namespace` */
  namespace?: string;
  /** `--id`: worker id. */
  id?: string;
}

const TOP_KEYS = ['zookeeper', 'worker', 'logging', 'history', 'jobs'];
const ZOOKEEPER_KEYS = ['connect', 'namespace', 'sessionTimeoutMs', 'maxRequestBytes', 'auth', 'acl', 'tls'];
const WORKER_KEYS = ['id', 'labels', 'capacity', 'shutdownGraceMs', 'maxClockSkewMs', 'http'];
const HTTP_KEYS = ['host', 'port'];
const LOGGING_KEYS = ['level', 'format'];
const MAX_INT = Number.MAX_SAFE_INTEGER;

const CONNECT_RULE = { nonEmpty: true, pattern: CONNECT_PATTERN, patternText: 'host:port[,host:port...][/chroot]' };
const NAMESPACE_RULE = { pattern: NAMESPACE_PATTERN, patternText: '[A-Za-z0-9][A-Za-z0-9._-]* (no slashes)' };
const ID_RULE = { pattern: WORKER_ID_PATTERN, patternText: '[A-Za-z0-9][A-Za-z0-9._@:-]*', maxLength: MAX_WORKER_ID_LENGTH };

/** Settings the environment and flags can override. */
const OVERRIDES = [
  { field: 'zk', env: 'ZKSHARD_ZK', flag: '--zk', key: 'zookeeper.connect', rule: CONNECT_RULE,
    apply: (c: WorkerConfig, v: string) => void (c.zookeeper.connect = v) },
  { field: 'namespace', env: 'ZKSHARD_NAMESPACE', flag: '--namespace', key: 'zookeeper.namespace', rule: NAMESPACE_RULE,
    apply: (c: WorkerConfig, v: string) => void (c.zookeeper.namespace = v) },
  { field: 'id', env: 'ZKSHARD_WORKER_ID', flag: '--id', key: 'worker.id', rule: ID_RULE,
    apply: (c: WorkerConfig, v: string) => void (c.worker.id = v) },
] as const;

/**
 * Reads and validates a worker's YAML config file, applying defaults, then the environment
 * (`ZKSHARD_ZK`, `ZKSHARD_NAMESPACE`, `ZKSHARD_WORKER_ID`, `ZKSHARD_ZK_AUTH`, `ZKSHARD_PG_URL`; empty values are ignored), then the
 * flags in `overrides`. `baseDir` is the file's directory.
 * @throws ConfigError carrying every problem found (an unreadable file is one problem, naming it).
 */
export async function loadWorkerConfig(file: string, overrides: WorkerConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<WorkerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, key: '', message: `cannot read config file: ${(err as Error).message}` }], { cause: err });
  }
  return parseWorkerConfig(text, file, overrides, env);
}

/** {@link loadWorkerConfig} for text already read; `file` names it in problems and sets `baseDir`. */
export function parseWorkerConfig(text: string, file: string, overrides: WorkerConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const r = new ConfigReader(file);
  const doc = parseDocument(text);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    r.report('', pos ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${reason}` : `YAML syntax error: ${reason}`);
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    r.report('', `YAML error: ${(err as Error).message}`); // e.g. too many aliases
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);

  const d = workerConfigDefaults();
  const top = r.mapping(data, '', TOP_KEYS) ?? {};
  const zk = r.mapping(top.zookeeper, 'zookeeper', ZOOKEEPER_KEYS, true) ?? {};
  const w = r.mapping(top.worker, 'worker', WORKER_KEYS, true) ?? {};
  const log = r.mapping(top.logging, 'logging', LOGGING_KEYS, true) ?? {};
  const security = readZooKeeperSecurity(r, zk, dirname(resolve(file)), env);
  const history = readHistoryConfig(r, top.history, env);
  const config: WorkerConfig = {
    zookeeper: {
      connect: r.string(zk, 'zookeeper', 'connect', d.zookeeper.connect, CONNECT_RULE)!,
      namespace: r.string(zk, 'zookeeper', 'namespace', d.zookeeper.namespace, NAMESPACE_RULE)!,
      sessionTimeoutMs: r.integer(zk, 'zookeeper', 'sessionTimeoutMs', MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS, d.zookeeper.sessionTimeoutMs)!,
      maxRequestBytes: r.integer(zk, 'zookeeper', 'maxRequestBytes', MIN_MAX_REQUEST_BYTES, MAX_MAX_REQUEST_BYTES, d.zookeeper.maxRequestBytes)!,
      ...(security.credentials ? { credentials: security.credentials } : {}),
      ...(security.acl.length > 0 ? { acl: security.acl } : {}),
      ...(security.tls ? { tls: security.tls } : {}),
    },
    worker: {
      id: r.string(w, 'worker', 'id', d.worker.id, ID_RULE)!,
      labels: readLabels(r, w.labels),
      capacity: r.positiveNumber(w, 'worker', 'capacity', d.worker.capacity)!,
      shutdownGraceMs: r.integer(w, 'worker', 'shutdownGraceMs', 0, MAX_INT, d.worker.shutdownGraceMs)!,
      maxClockSkewMs: r.integer(w, 'worker', 'maxClockSkewMs', 0, MAX_INT, d.worker.maxClockSkewMs)!,
      http: readHttp(r, w.http),
    },
    logging: {
      level: r.choice(log, 'logging', 'level', LOG_LEVELS, d.logging.level)!,
      format: r.choice(log, 'logging', 'format', LOG_FORMATS, d.logging.format)!,
    },
    jobs: [],
    ...(history ? { history } : {}),
    file: resolve(file),
    baseDir: dirname(resolve(file)),
  };
  if (top.jobs !== undefined && top.jobs !== null && !Array.isArray(top.jobs)) r.report('jobs', 'must be a list of jobs', top.jobs);
  else {
    const { jobs, problems } = validateJobList(Array.isArray(top.jobs) ? top.jobs : [], file);
    config.jobs = jobs;
    r.problems.push(...problems);
  }

  // The environment, then the flags; each value checked by the file's rule and named by its source.
  const o = new ConfigReader();
  for (const from of ['env', 'flag'] as const) {
    for (const ov of OVERRIDES) {
      const value = from === 'env' ? env[ov.env] : overrides[ov.field];
      if (value === undefined || value === '') continue;
      const before = o.problems.length;
      const v = o.string({ [ov.key]: value }, '', ov.key, undefined, ov.rule);
      const source = from === 'env' ? `environment variable ${ov.env}` : `flag ${ov.flag}`;
      for (const p of o.problems.slice(before)) p.message += ` (set by ${source})`;
      if (v !== undefined) ov.apply(config, v);
    }
  }
  const problems = [...r.problems, ...o.problems];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `worker.http`: `{ host, port }` of the metrics/health endpoint; absent = off. */
function readHttp(r: ConfigReader, raw: unknown): { host: string; port: number } | undefined {
  if (raw === undefined || raw === null) return undefined;
  const h = r.mapping(raw, 'worker.http', HTTP_KEYS);
  if (!h) return undefined;
  const host = r.string(h, 'worker.http', 'host', DEFAULTS.worker.httpHost, { pattern: /^[A-Za-z0-9.:[\]-]+$/, patternText: 'a host name or IP address' });
  const port = r.integer(h, 'worker.http', 'port', 0, 65535);
  if (h.port === undefined) r.report('worker.http.port', 'is required (0 picks a free port)', raw);
  return host !== undefined && port !== undefined ? { host, port } : undefined;
}

/** `worker.labels`: a mapping of names to scalar values, kept as strings. */
function readLabels(r: ConfigReader, raw: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (raw === undefined || raw === null) return labels;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    r.report('worker.labels', 'must be a mapping of label names to values', raw);
    return labels;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') labels[k] = String(v);
    else r.report(`worker.labels.${k}`, 'must be a string', v);
  }
  return labels;
}
