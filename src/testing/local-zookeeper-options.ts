import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';

/** Options shared by {@link ZooKeeperServer} and {@link ZooKeeperEnsemble}. */
export interface LocalZooKeeperOptions {
  /** ZooKeeper's basic time unit in ms; heartbeats and the ensemble's init/sync limits count in ticks. @default 500 */
  tickTime?: number;
  /** Smallest session timeout the server grants, in ms. @default 1000 */
  minSessionTimeout?: number;
  /** Largest session timeout the server grants, in ms. @default 60000 */
  maxSessionTimeout?: number;
  /**
   * fsync the transaction log before acknowledging writes. Off by default: test data need not
   * survive a power cut, and fsync latency would dominate every measured round trip.
   * @default false
   */
  forceSync?: boolean;
  /** More `zoo.cfg` entries; they override the generated ones. @default {} */
  config?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Directory for everything of this server (ensemble: of all its servers): `zoo.cfg`,
   * `log4j.properties`, `server.log` and the snapshots and transaction logs under `data/`.
   * Created when missing. @default a new directory `zkshard-zk-*` under the OS temp dir
   */
  dataDir?: string;
  /** Keep `dataDir` on `close()`. @default false for a temp dir this class made, true for a given `dataDir` */
  keepDataDir?: boolean;
  /** The java executable. @default `$JAVA_HOME/bin/java`, else `java` on PATH */
  java?: string;
  /** Classpath of the server. @default the Debian package's jar plus its log4j binding */
  classpath?: readonly string[];
  /** JVM options, replacing the defaults. @default DEFAULT_JVM_OPTIONS (small heap, serial GC, C1 only) */
  jvmOptions?: readonly string[];
  /** How long `start()` waits for the server(s) to serve before failing with the log tail. @default 30000 */
  startTimeoutMs?: number;
  /** How long a stop waits after SIGTERM before sending SIGKILL. @default 5000 */
  stopGraceMs?: number;
}

/** Every option of {@link LocalZooKeeperOptions} that has a plain default, resolved. */
export interface ResolvedTimings {
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  forceSync: boolean;
  startTimeoutMs: number;
  stopGraceMs: number;
}

export function resolveTimings(o: LocalZooKeeperOptions): ResolvedTimings {
  const r: ResolvedTimings = {
    tickTime: 500,
    minSessionTimeout: 1000,
    maxSessionTimeout: 60_000,
    forceSync: false,
    startTimeoutMs: 30_000,
    stopGraceMs: 5000,
    ...definedOnly({
      tickTime: o.tickTime,
      minSessionTimeout: o.minSessionTimeout,
      maxSessionTimeout: o.maxSessionTimeout,
      forceSync: o.forceSync,
      startTimeoutMs: o.startTimeoutMs,
      stopGraceMs: o.stopGraceMs,
    }),
  };
  for (const key of ['tickTime', 'minSessionTimeout', 'maxSessionTimeout', 'startTimeoutMs'] as const) {
    if (!Number.isInteger(r[key]) || r[key] <= 0) throw new RangeError(`${key} must be a positive integer, got ${r[key]}`);
  }
  if (!Number.isInteger(r.stopGraceMs) || r.stopGraceMs < 0) {
    throw new RangeError(`stopGraceMs must be a non-negative integer, got ${r.stopGraceMs}`);
  }
  if (r.minSessionTimeout > r.maxSessionTimeout) {
    throw new RangeError(`minSessionTimeout (${r.minSessionTimeout}) must not exceed maxSessionTimeout (${r.maxSessionTimeout})`);
  }
  return r;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks a bind address option: an IPv4 address (the servers are started with `preferIPv4Stack`). */
export function checkBindAddress(name: string, address: string): void {
  if (typeof address !== 'string' || !isIPv4(address)) throw new RangeError(`${name} must be an IPv4 address, got ${JSON.stringify(address)}`);
}

/** Checks a port option: an integer in 1..65535. */
export function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`${name} must be a TCP port (1..65535), got ${port}`);
}

/**
 * The `zoo.cfg` entries every local server gets, before per-server and user entries: the client
 * port bound on `clientPortAddress` only (127.0.0.1 unless a test network needs another address).
 */
export function baseZooCfg(t: ResolvedTimings, dataDir: string, clientPort: number, clientPortAddress: string): Record<string, string> {
  return {
    tickTime: String(t.tickTime),
    dataDir,
    clientPort: String(clientPort),
    clientPortAddress,
    minSessionTimeout: String(t.minSessionTimeout),
    maxSessionTimeout: String(t.maxSessionTimeout),
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    forceSync: t.forceSync ? 'yes' : 'no',
    // Purge old snapshots so a long benchmark does not fill the disk.
    'autopurge.snapRetainCount': '3',
    'autopurge.purgeInterval': '1',
  };
}

const LOG4J_PROPERTIES = `# Written by zkshard's test server: everything to stdout, which goes to server.log.
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
`;

/**
 * Writes a server's directory: `zoo.cfg` (generated entries, then `extra`), `log4j.properties`,
 * `data/` and, for an ensemble member, `data/myid`. Returns the path of `zoo.cfg`.
 */
export async function writeServerDir(
  dir: string,
  entries: Record<string, string>,
  extra: Readonly<Record<string, string | number | boolean>> | undefined,
  myid?: number,
): Promise<string> {
  const dataDir = entries['dataDir'] ?? join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const all: Record<string, string> = { ...entries };
  for (const [k, v] of Object.entries(extra ?? {})) all[k] = typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
  const cfg = join(dir, 'zoo.cfg');
  await writeFile(cfg, Object.entries(all).map(([k, v]) => `${k}=${v}\n`).join(''));
  await writeFile(join(dir, 'log4j.properties'), LOG4J_PROPERTIES);
  if (myid !== undefined) await writeFile(join(dataDir, 'myid'), `${myid}\n`);
  return cfg;
}

/** Creates the given directory, or a new temp one; tells whether it is ours to remove. */
export async function makeRootDir(given: string | undefined): Promise<{ dir: string; ownedTemp: boolean }> {
  if (given !== undefined) {
    await mkdir(given, { recursive: true });
    return { dir: given, ownedTemp: false };
  }
  return { dir: await mkdtemp(join(tmpdir(), 'zkshard-zk-')), ownedTemp: true };
}
