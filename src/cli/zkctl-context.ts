import { Command, InvalidArgumentError, Option } from 'commander';
import { ZkClient } from '../zk/zk-client.js';
import { ZkPaths } from '../zk/zk-paths.js';
import { NotAuthorizedError, ZkUnavailableError } from '../zk/zk-errors.js';
import { ZkCredentials } from '../zk/zk-acl.js';
import { AUTH_ENV } from '../config/read-zookeeper-security.js';
import { readTlsFiles, type ZkTlsOptions } from '../zk/zk-tls.js';
import { resolveNamespaceAcl } from '../api/acl-policy.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { silentLogger } from '../logging/create-logger.js';
import { DEFAULTS } from '../defaults.js';
import { CONNECT_PATTERN } from '../config/worker-config.js';
import { audited } from './audit-mutation.js';
import { pgOption } from './pg-option.js';

/** How long zkctl waits for a ZooKeeper session before it gives up (exit 3). */
export const CONNECT_TIMEOUT_MS = 3000;
/** How long one ZooKeeper request may take. */
export const REQUEST_TIMEOUT_MS = 5000;
/** Session timeout requested by zkctl (long enough for `watch` to survive a short hiccup). */
export const SESSION_TIMEOUT_MS = 10_000;

export const DEFAULT_CONNECT = DEFAULTS.zookeeper.connect;
export const DEFAULT_NAMESPACE = DEFAULTS.zookeeper.namespace;


/** zkctl's global options, as every command sees them. */
export interface ZkctlGlobals {
  zk: string;
  namespace: string;
  json: boolean;
}

/** What a command gets while connected. */
export interface ZkctlContext {
  zk: ZkClient;
  paths: ZkPaths;
  globals: ZkctlGlobals;
}

/** Adds the global options (`--zk`, `--namespace`, `--json`, `--pg`) to the zkctl program. */
export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option('--zk <connect>', 'ZooKeeper connection string host:port[,host:port...][/chroot]').env('ZKSHARD_ZK').default(DEFAULT_CONNECT))
    .addOption(new Option('--namespace <ns>', 'root znode of the fleet').env('ZKSHARD_NAMESPACE').default(DEFAULT_NAMESPACE))
    .addOption(new Option('--json', 'machine-readable JSON output (shapes in docs/ZKCTL.md)'))
    .addOption(pgOption());
}

/**
 * The global options seen from a command (`cmd.optsWithGlobals()`), validated. An empty value
 * (e.g. `ZKSHARD_ZK=`) means the default.
 * @throws ZkshardError USAGE (exit 2) for a malformed connection string or namespace.
 */
export function globalsOf(cmd: Command): ZkctlGlobals {
  const o = cmd.optsWithGlobals<{ zk?: string; namespace?: string; json?: boolean }>();
  const zk = o.zk?.trim() || DEFAULT_CONNECT;
  const namespace = o.namespace?.trim() || DEFAULT_NAMESPACE;
  if (!CONNECT_PATTERN.test(zk)) throw new ZkshardError('USAGE', `--zk: expected host:port[,host:port...][/chroot], got ${JSON.stringify(zk)}`);
  try {
    new ZkPaths(namespace);
  } catch (err) {
    throw new ZkshardError('USAGE', `--namespace: ${(err as Error).message.replace(/^zk: /, '')}`);
  }
  return { zk, namespace, json: o.json === true };
}

/**
 * zkctl's credentials: `ZKSHARD_ZK_AUTH=user:password` (never a flag: it would show in `ps`).
 * @throws ZkshardError USAGE (exit 2) when it is malformed; the message never quotes it.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): ZkCredentials | undefined {
  const text = env[AUTH_ENV];
  if (text === undefined || text === '') return undefined;
  try {
    return ZkCredentials.parse(text, `environment variable ${AUTH_ENV}`);
  } catch (err) {
    throw new ZkshardError('USAGE', (err as Error).message);
  }
}

/** The env variable naming the PEM file of the CA that signed the ZooKeeper servers' TLS certificates. */
export const TLS_CA_ENV = 'ZKSHARD_ZK_TLS_CA';

/**
 * `ZKSHARD_ZK_TLS_CA=<ca.pem>`: connect over TLS (the servers' `secureClientPort` in `--zk`).
 * @throws ZkshardError USAGE (exit 2) when the file cannot be read.
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): ZkTlsOptions | undefined {
  const caFile = env[TLS_CA_ENV];
  if (caFile === undefined || caFile === '') return undefined;
  try {
    return readTlsFiles({ caFile });
  } catch (err) {
    throw new ZkshardError('USAGE', `environment variable ${TLS_CA_ENV}: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Opens a session (waiting at most {@link CONNECT_TIMEOUT_MS}) with the credentials of
 * `ZKSHARD_ZK_AUTH`, and takes the ACL of the nodes it may create from the namespace root
 * (`resolveNamespaceAcl`), so that an operator's nodes carry the fleet's policy.
 * @throws ZkUnavailableError ZK_UNAVAILABLE (exit 3) with one clear line when ZooKeeper cannot be reached.
 * @throws NotAuthorizedError (exit 4) when ZooKeeper refuses the session.
 */
export async function connect(globals: ZkctlGlobals, namespaceRoot?: string, credentials: ZkCredentials | undefined = credentialsFromEnv()): Promise<ZkClient> {
  const zk = new ZkClient({
    connect: globals.zk,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    credentials,
    tls: tlsFromEnv(),
    logger: silentLogger(),
  });
  try {
    await zk.start();
  } catch (err) {
    await zk.close().catch(() => undefined);
    if (err instanceof NotAuthorizedError) throw err;
    throw new ZkUnavailableError('ZK_UNAVAILABLE', `cannot reach ZooKeeper at ${globals.zk}: no session within ${CONNECT_TIMEOUT_MS} ms (check --zk or ZKSHARD_ZK)`, { cause: err });
  }
  if (namespaceRoot !== undefined) {
    try {
      await resolveNamespaceAcl(zk, namespaceRoot);
    } catch (err) {
      await zk.close().catch(() => undefined);
      throw err;
    }
  }
  return zk;
}

/**
 * Runs `fn` with a session on the command's ZooKeeper and namespace; always closes the session.
 * A mutation is recorded in the audit trail (`audit-mutation.ts`).
 */
export async function withZk<T>(cmd: Command, fn: (ctx: ZkctlContext) => Promise<T>): Promise<T> {
  const globals = globalsOf(cmd);
  const paths = new ZkPaths(globals.namespace);
  const zk = await connect(globals, paths.root);
  try {
    return await audited(cmd, zk, paths, () => fn({ zk, paths, globals }));
  } finally {
    await zk.close().catch(() => undefined);
  }
}

/** Commander parser for an integer option in `[min, max]` (a bad value is a usage error, exit 2). */
export function integerOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** Commander parser for a non-negative number of seconds (fractions allowed). */
export function secondsOption(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number of seconds >= 0, got ${JSON.stringify(value)}`);
    return n;
  };
}
