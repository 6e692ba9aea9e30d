import { rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { onProcessExit } from './exit-cleanup.js';
import { busyPorts, findFreePorts } from './free-port.js';
import { serverMode, servesDataDir } from '../zk/four-letter-word.js';
import { DEFAULT_JVM_OPTIONS, defaultZooKeeperClasspath, findJava } from './java.js';
import type { NetworkNamespace } from './network-namespace.js';
import {
  baseZooCfg,
  checkBindAddress,
  checkPort,
  makeRootDir,
  resolveTimings,
  writeServerDir,
  type LocalZooKeeperOptions,
  type ResolvedTimings,
} from './local-zookeeper-options.js';
import { waitFor } from './wait-for.js';
import { ZooKeeperStartError } from './zookeeper-errors.js';
import { ZooKeeperProcess, type StopOptions } from './zookeeper-process.js';

export type { StopOptions } from './zookeeper-process.js';

/** Options of a {@link ZooKeeperServer}. */
export interface ZooKeeperServerOptions extends LocalZooKeeperOptions {
  /** Client port, bound on `host` only. @default a free port, picked by the first `start()` */
  port?: number;
  /**
   * The IPv4 address the client port is bound on, e.g. a `NetworkLab`'s `hostAddress` so that
   * processes in network namespaces reach the server. @default `netns.address`, else 127.0.0.1
   */
  host?: string;
  /** Run the server inside this network namespace (`ip netns exec`). @default the host's network */
  netns?: NetworkNamespace;
  /**
   * Also serve TLS on a `secureClientPort` (a free port, 127.0.0.1 only; see `secureConnectString`),
   * with this PKCS#12 key store holding the server's key and certificate. The plain port stays (the
   * start-up check uses it). Adds Netty's codec and resolver jars to the classpath. @default off
   */
  tls?: { keyStoreFile: string; keyStorePassword: string };
}

/** Netty jars the Debian server needs besides its manifest's for `NettyServerCnxnFactory` (TLS). */
const NETTY_TLS_JARS = ['/usr/share/java/netty-codec.jar', '/usr/share/java/netty-resolver.jar'];

export const LOOPBACK = '127.0.0.1';

/**
 * A standalone ZooKeeper server on 127.0.0.1 (or another address, see `host`), run from the Debian package's jar, for tests, the
 * demo and benchmarks. The constructor does no I/O; `start()` resolves once the server serves
 * requests (`srvr` reports `Mode: standalone`). `stop()`/`start()` keep the port and the data, so
 * sessions survive a restart shorter than their timeout; `pause()`/`resume()` freeze the JVM.
 * `close()` stops it and removes its temp directory.
 *
 * ```ts
 * const zk = new ZooKeeperServer();
 * await zk.start();
 * // ... connect to zk.connectString ...
 * await zk.close();
 * ```
 */
export class ZooKeeperServer {
  readonly #options: ZooKeeperServerOptions;
  readonly #timings: ResolvedTimings;
  readonly #host: string;
  #port: number | undefined;
  #securePort: number | undefined;
  #dir: string | undefined;
  #ownedTemp = false;
  #process: ZooKeeperProcess | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #unregisterDirCleanup: (() => void) | undefined;

  constructor(options: ZooKeeperServerOptions = {}) {
    this.#timings = resolveTimings(options);
    if (options.port !== undefined) checkPort('port', options.port);
    if (options.host !== undefined) checkBindAddress('host', options.host);
    this.#host = options.host ?? options.netns?.address ?? LOOPBACK;
    this.#options = options;
    this.#port = options.port;
  }

  /** `<host>:<port>`. Known after `start()` unless a port was given. */
  get connectString(): string {
    return `${this.#host}:${this.port}`;
  }

  /** `127.0.0.1:<secure port>` of the TLS port (option `tls`). Known after `start()`. */
  get secureConnectString(): string {
    if (this.#securePort === undefined) throw new IllegalStateError('ZooKeeperServer: no TLS port (option tls), or start() not called yet');
    return `${LOOPBACK}:${this.#securePort}`;
  }

  /** The address the client port is bound on: 127.0.0.1 unless `host` or `netns` was given. */
  get host(): string {
    return this.#host;
  }

  /** The client port. Known after `start()` unless a port was given. */
  get port(): number {
    if (this.#port === undefined) throw new IllegalStateError('ZooKeeperServer: the port is picked by start(); call it first');
    return this.#port;
  }

  /** Pid of the server's JVM, `undefined` while it does not run. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** True while the JVM runs (also while paused). */
  get running(): boolean {
    return this.#process?.running ?? false;
  }

  /** True while frozen by `pause()`. */
  get paused(): boolean {
    return this.#process?.paused ?? false;
  }

  /** The server's directory (`zoo.cfg`, `server.log`, `data/`); set by the first `start()`. */
  get dataDir(): string | undefined {
    return this.#dir;
  }

  /** The server's log file (JVM stdout and stderr); set by the first `start()`. */
  get logFile(): string | undefined {
    return this.#dir === undefined ? undefined : join(this.#dir, 'server.log');
  }

  /** The last `lines` lines of the server log, with a header line. */
  logTail(lines = 40): string {
    return this.#process?.logTail(lines) ?? '(server never started: no log)';
  }

  /**
   * Starts the server, or starts it again after `stop()` (same port, same data), and resolves once
   * it serves requests. Resolves at once while it runs; concurrent calls share one start.
   * Rejects with a {@link ZooKeeperStartError} carrying the log tail after `startTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new IllegalStateError('ZooKeeperServer: start() after close()'));
    if (this.#starting) return this.#starting;
    if (this.running) return Promise.resolve();
    this.#starting = this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const autoPort = this.#options.port === undefined;
    for (let attempt = 1; ; attempt++) {
      const proc = await this.#prepare();
      // Another process may have taken an auto-picked port since it was picked: pick again.
      const repick = autoPort && attempt < 3;
      // A namespace of our own has nothing else listening; the host cannot bind its address anyway.
      if (this.#options.netns === undefined && (await busyPorts([this.port], this.#host)).length > 0) {
        if (repick) {
          this.#repickPort();
          continue;
        }
        throw new ZooKeeperStartError(`ZooKeeper server: port ${this.port} on ${this.#host} is already in use`, '');
      }
      proc.spawn();
      try {
        await this.#waitUntilServing(proc);
        return;
      } catch (err) {
        await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
        if (repick && /Address already in use/.test(proc.logTail(200))) {
          this.#repickPort();
          continue;
        }
        throw err;
      }
    }
  }

  #repickPort(): void {
    this.#port = undefined;
    this.#securePort = undefined;
    this.#process = undefined;
  }

  async #prepare(): Promise<ZooKeeperProcess> {
    if (this.#process) return this.#process;
    const java = findJava(this.#options.java);
    if (this.#dir === undefined) {
      const { dir, ownedTemp } = await makeRootDir(this.#options.dataDir);
      this.#dir = dir;
      this.#ownedTemp = ownedTemp;
      if (this.#removesDir()) this.#unregisterDirCleanup = onProcessExit(() => rmSync(dir, { recursive: true, force: true }), 'cleanup');
    }
    const dir = this.#dir;
    this.#port ??= (await findFreePorts(1, this.#options.netns === undefined ? this.#host : LOOPBACK))[0]!;
    const tls = this.#options.tls;
    if (tls) this.#securePort ??= (await findFreePorts(1))[0]!;
    const tlsCfg: Record<string, string> = tls
      ? {
          secureClientPort: String(this.#securePort),
          secureClientPortAddress: LOOPBACK,
          serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
          'ssl.keyStore.location': tls.keyStoreFile,
          'ssl.keyStore.password': tls.keyStorePassword,
          'ssl.keyStore.type': 'PKCS12',
          'ssl.clientAuth': 'none',
        }
      : {};
    const cfg = await writeServerDir(dir, { ...baseZooCfg(this.#timings, join(dir, 'data'), this.#port, this.#host), ...tlsCfg }, this.#options.config);
    const classpath = this.#options.classpath ?? defaultZooKeeperClasspath();
    this.#process = new ZooKeeperProcess({
      java,
      jvmOptions: this.#options.jvmOptions ?? DEFAULT_JVM_OPTIONS,
      dir,
      classpath: tls ? [...classpath, ...NETTY_TLS_JARS] : classpath,
      mainClass: 'org.apache.zookeeper.server.ZooKeeperServerMain',
      configFile: cfg,
      logFile: join(dir, 'server.log'),
      ...(this.#options.netns === undefined ? {} : { prefix: this.#options.netns.execPrefix }),
    });
    return this.#process;
  }

  async #waitUntilServing(proc: ZooKeeperProcess): Promise<void> {
    const exitAbort = new AbortController();
    void proc.exited().then((info) => {
      const how = info.error ? `could not be spawned: ${info.error.message}` : `exited (code ${info.code}, signal ${info.signal})`;
      exitAbort.abort(new ZooKeeperStartError(`ZooKeeper server ${this.connectString}: the JVM ${how} while starting`, proc.logTail()));
    });
    const timeoutMs = this.#timings.startTimeoutMs;
    try {
      await waitFor(async () => (await serverMode(this.#host, this.port, 1000)) !== undefined, {
        timeoutMs,
        intervalMs: 50,
        signal: exitAbort.signal,
      });
      if (!(await servesDataDir(this.#host, this.port, join(proc.spec.dir, 'data')))) {
        throw new ZooKeeperStartError(`ZooKeeper server: another ZooKeeper answers on ${this.connectString}`, proc.logTail());
      }
    } catch (err) {
      if (err instanceof ZooKeeperStartError) throw err;
      throw new ZooKeeperStartError(
        `ZooKeeper server ${this.connectString} did not serve requests within ${timeoutMs} ms`,
        proc.logTail(),
        { cause: err },
      );
    } finally {
      exitAbort.abort(new Error('done'));
    }
  }

  /**
   * Stops the JVM (SIGTERM, then SIGKILL after the grace; or SIGKILL at once), keeping port and
   * data so `start()` brings the same server back. No-op when it does not run.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#process?.stop({ ...options, graceMs: options.graceMs ?? this.#timings.stopGraceMs });
  }

  /** `stop(options)` then `start()`: same port, same data. */
  async restart(options: StopOptions = {}): Promise<void> {
    await this.stop(options);
    await this.start();
  }

  /** Freezes the JVM (SIGSTOP): connections stay open, nothing is answered, sessions stop being served. */
  pause(): void {
    this.#runningProcess('pause').pause();
  }

  /** Thaws the JVM after `pause()` (SIGCONT). */
  resume(): void {
    this.#runningProcess('resume').resume();
  }

  #runningProcess(what: string): ZooKeeperProcess {
    const proc = this.#process;
    if (proc === undefined || !proc.running) throw new IllegalStateError(`ZooKeeperServer: ${what}() while the server does not run`);
    return proc;
  }

  /** Stops the server and removes its temp directory (unless kept). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#process?.stop({ graceMs: this.#timings.stopGraceMs });
    if (this.#dir !== undefined && this.#removesDir()) {
      await rm(this.#dir, { recursive: true, force: true, maxRetries: 3 });
      this.#unregisterDirCleanup?.();
    }
  }

  #removesDir(): boolean {
    return !(this.#options.keepDataDir ?? !this.#ownedTemp);
  }
}
