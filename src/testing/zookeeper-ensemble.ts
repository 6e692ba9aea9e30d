import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { onProcessExit } from './exit-cleanup.js';
import { busyPorts, findFreePorts } from './free-port.js';
import { isAlive, serverMode, servesDataDir, type ZooKeeperMode } from '../zk/four-letter-word.js';
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
import { LOOPBACK } from './zookeeper-server.js';

/** The three ports of one ensemble member, all on its address (127.0.0.1 unless given). */
export interface EnsemblePorts {
  client: number;
  /** Followers connect to the leader on this port. */
  peer: number;
  /** Leader election port. */
  election: number;
}

/** Options of a {@link ZooKeeperEnsemble}. */
export interface ZooKeeperEnsembleOptions extends LocalZooKeeperOptions {
  /** Number of servers; odd sizes tolerate the most failures per server. @default 3 */
  size?: number;
  /** Ports of each server (length `size`). @default free ports, picked by the first `start()` */
  ports?: readonly EnsemblePorts[];
  /** Ticks a follower may take to connect and sync to the leader. @default 10 */
  initLimit?: number;
  /** Ticks a follower may lag behind the leader before it is dropped. @default 5 */
  syncLimit?: number;
  /**
   * The IPv4 address each server binds (client, peer and election ports), by index (length
   * `size`). @default each server's `netns` address, else 127.0.0.1
   */
  hosts?: readonly string[];
  /**
   * Run each server inside its own network namespace (`ip netns exec`), by index (length `size`),
   * so that a test can cut servers off from each other or from clients. @default the host's network
   */
  netns?: readonly NetworkNamespace[];
}

/** What the ensemble knows about one of its servers, at the time of asking. */
export interface EnsembleServerInfo {
  /** 0-based index, as used by `stopServer(i)` and friends. */
  index: number;
  /** ZooKeeper server id (`myid`): `index + 1`. */
  myid: number;
  ports: EnsemblePorts;
  /** The address it binds (127.0.0.1 unless given). */
  host: string;
  /** `<host>:<client port>`. */
  connectString: string;
  pid: number | undefined;
  running: boolean;
  paused: boolean;
  /** This server's directory (`zoo.cfg`, `server.log`, `data/`). */
  dir: string;
}

/**
 * An ensemble of `size` ZooKeeper servers on 127.0.0.1 (`QuorumPeerMain`, Debian package jar), for
 * fault tests; or on addresses of their own, each in its own network namespace (`hosts`, `netns`). Servers are addressed by 0-based index; each has its own directory, ports and JVM.
 * The constructor does no I/O; `start()` resolves once every server serves with one leader;
 * `stopServer`/`startServer`/`restartServer` keep a server's data; `pauseServer` freezes it.
 */
export class ZooKeeperEnsemble {
  readonly size: number;
  readonly #options: ZooKeeperEnsembleOptions;
  readonly #timings: ResolvedTimings;
  readonly #hosts: readonly string[];
  #ports: EnsemblePorts[] | undefined;
  #dir: string | undefined;
  #ownedTemp = false;
  #processes: ZooKeeperProcess[] = [];
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #unregisterDirCleanup: (() => void) | undefined;

  constructor(options: ZooKeeperEnsembleOptions = {}) {
    this.#timings = resolveTimings(options);
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
    if (options.ports !== undefined) {
      if (options.ports.length !== size) throw new RangeError(`ports has ${options.ports.length} entries, size is ${size}`);
      options.ports.forEach((p, i) => {
        checkPort(`ports[${i}].client`, p.client);
        checkPort(`ports[${i}].peer`, p.peer);
        checkPort(`ports[${i}].election`, p.election);
      });
      this.#ports = options.ports.map((p) => ({ ...p }));
    }
    for (const key of ['initLimit', 'syncLimit'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`${key} must be a positive integer, got ${v}`);
    }
    for (const key of ['hosts', 'netns'] as const) {
      const list = options[key];
      if (list !== undefined && list.length !== size) throw new RangeError(`${key} has ${list.length} entries, size is ${size}`);
    }
    options.hosts?.forEach((h, i) => checkBindAddress(`hosts[${i}]`, h));
    this.#hosts = Array.from({ length: size }, (_, i) => options.hosts?.[i] ?? options.netns?.[i]?.address ?? LOOPBACK);
    this.size = size;
    this.#options = options;
  }

  /** The address each server binds, by index. */
  get hosts(): readonly string[] {
    return this.#hosts;
  }

  /** How many servers form a majority: `floor(size / 2) + 1`. */
  get quorumSize(): number {
    return Math.floor(this.size / 2) + 1;
  }

  /** `host1:p1,host2:p2,...` over all servers. Known after `start()` unless ports were given. */
  get connectString(): string {
    return this.#knownPorts().map((p, i) => `${this.#hosts[i]}:${p.client}`).join(',');
  }

  /** `<host>:<client port>` of server `index`. */
  serverConnectString(index: number): string {
    this.#checkIndex(index);
    return `${this.#hosts[index]}:${this.#knownPorts()[index]!.client}`;
  }

  /** One entry per server. Needs `start()` first unless ports were given. */
  get servers(): readonly EnsembleServerInfo[] {
    const ports = this.#knownPorts();
    return ports.map((p, index) => {
      const proc = this.#processes[index];
      return {
        index,
        myid: index + 1,
        ports: { ...p },
        host: this.#hosts[index]!,
        connectString: `${this.#hosts[index]}:${p.client}`,
        pid: proc?.pid,
        running: proc?.running ?? false,
        paused: proc?.paused ?? false,
        dir: this.#dir === undefined ? '' : this.#serverDir(index),
      };
    });
  }

  /** Pids of the running JVMs, by index (`undefined` for a stopped server). */
  get pids(): ReadonlyArray<number | undefined> {
    return Array.from({ length: this.size }, (_, i) => this.#processes[i]?.pid);
  }

  /** The ensemble's root directory (one `server-<myid>/` per server); set by the first `start()`. */
  get dataDir(): string | undefined {
    return this.#dir;
  }

  /** The last `lines` lines of server `index`'s log, with a header line. */
  logTail(index: number, lines = 40): string {
    this.#checkIndex(index);
    return this.#processes[index]?.logTail(lines) ?? `(server ${index} never started: no log)`;
  }

  /** Every server's mode from `srvr`, by index; `undefined` for one that is down, frozen or not serving. */
  modes(timeoutMs = 1000): Promise<Array<ZooKeeperMode | undefined>> {
    const ports = this.#knownPorts();
    return Promise.all(ports.map((p, i) => (this.#processes[i]?.running ? serverMode(this.#hosts[i]!, p.client, timeoutMs) : undefined)));
  }

  /** Index of the current leader, or `undefined` when no server reports being leader. */
  async leader(timeoutMs = 1000): Promise<number | undefined> {
    const i = (await this.modes(timeoutMs)).indexOf('leader');
    return i < 0 ? undefined : i;
  }

  /**
   * Starts every server and resolves once all serve (leader or follower, exactly one leader).
   * Resolves at once once started (bring single servers back with `startServer`); concurrent calls
   * share one start. Rejects with a
   * {@link ZooKeeperStartError} carrying each server's log tail after `startTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.#closing) return Promise.reject(new IllegalStateError('ZooKeeperEnsemble: start() after close()'));
    if (this.#starting) return this.#starting;
    if (this.#processes.length === this.size) return Promise.resolve();
    this.#starting = this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const autoPorts = this.#options.ports === undefined;
    for (let attempt = 1; ; attempt++) {
      await this.#prepare();
      // Another process may have taken an auto-picked port since it was picked: pick again.
      const repick = autoPorts && attempt < 3;
      const busy = await this.#busyPorts(this.#knownPorts().map((_, i) => i));
      if (busy.length > 0) {
        if (repick) {
          await this.#forgetPorts();
          continue;
        }
        throw new ZooKeeperStartError(`ZooKeeper ensemble: ${busy.join(', ')} already in use`, '');
      }
      for (const proc of this.#processes) proc.spawn();
      try {
        await this.#waitUntil(
          this.#processes,
          async () => {
            const modes = await this.modes();
            return modes.every((m) => m === 'leader' || m === 'follower' || (this.size === 1 && m === 'standalone')) &&
              modes.filter((m) => m === 'leader').length === (this.size === 1 ? 0 : 1);
          },
          `every server of the ${this.size}-server ensemble to serve with one leader`,
        );
        await this.#checkIdentity(this.#processes.map((_, i) => i));
        return;
      } catch (err) {
        const logs = this.#processes.map((p) => p.logTail(200)).join('\n');
        await Promise.all(this.#processes.map((p) => p.stop({ signal: 'SIGKILL', graceMs: 0 })));
        this.#processes = [];
        if (repick && /Address already in use/.test(logs)) {
          await this.#forgetPorts();
          continue;
        }
        throw err;
      }
    }
  }

  /** Drops auto-picked ports and the server dirs written for them (their data names the old peers). */
  async #forgetPorts(): Promise<void> {
    this.#ports = undefined;
    await Promise.all(Array.from({ length: this.size }, (_, i) => rm(this.#serverDir(i), { recursive: true, force: true })));
  }

  async #prepare(): Promise<void> {
    const java = findJava(this.#options.java);
    if (this.#dir === undefined) {
      const { dir, ownedTemp } = await makeRootDir(this.#options.dataDir);
      this.#dir = dir;
      this.#ownedTemp = ownedTemp;
      if (this.#removesDir()) this.#unregisterDirCleanup = onProcessExit(() => rmSync(dir, { recursive: true, force: true }), 'cleanup');
    }
    if (this.#ports === undefined) {
      const free = await findFreePorts(3 * this.size);
      this.#ports = Array.from({ length: this.size }, (_, i) => ({
        client: free[3 * i]!,
        peer: free[3 * i + 1]!,
        election: free[3 * i + 2]!,
      }));
    }
    const ports = this.#ports;
    const serverLines = Object.fromEntries(ports.map((p, i) => [`server.${i + 1}`, `${this.#hosts[i]}:${p.peer}:${p.election}`]));
    this.#processes = await Promise.all(
      ports.map(async (p, i) => {
        const dir = this.#serverDir(i);
        await mkdir(dir, { recursive: true });
        const cfg = await writeServerDir(
          dir,
          {
            ...baseZooCfg(this.#timings, join(dir, 'data'), p.client, this.#hosts[i]!),
            initLimit: String(this.#options.initLimit ?? 10),
            syncLimit: String(this.#options.syncLimit ?? 5),
            ...serverLines,
          },
          this.#options.config,
          i + 1,
        );
        return new ZooKeeperProcess({
          java,
          jvmOptions: this.#options.jvmOptions ?? DEFAULT_JVM_OPTIONS,
          dir,
          classpath: this.#options.classpath ?? defaultZooKeeperClasspath(),
          mainClass: 'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          configFile: cfg,
          logFile: join(dir, 'server.log'),
          ...(this.#options.netns === undefined ? {} : { prefix: this.#options.netns[i]!.execPrefix }),
        });
      }),
    );
  }

  /**
   * Polls `ready` until it holds, failing fast if one of `watched` exits, and with the log tails of
   * all servers after `startTimeoutMs`.
   */
  async #waitUntil(watched: readonly ZooKeeperProcess[], ready: () => Promise<boolean>, what: string): Promise<void> {
    const exitAbort = new AbortController();
    for (const proc of watched) {
      const index = this.#processes.indexOf(proc);
      void proc.exited().then((info) => {
        const how = info.error ? `could not be spawned: ${info.error.message}` : `exited (code ${info.code}, signal ${info.signal})`;
        exitAbort.abort(new ZooKeeperStartError(`ZooKeeper ensemble: the JVM of server ${index} ${how} while starting`, proc.logTail()));
      });
    }
    const timeoutMs = this.#timings.startTimeoutMs;
    try {
      await waitFor(ready, { timeoutMs, intervalMs: 100, signal: exitAbort.signal });
    } catch (err) {
      if (err instanceof ZooKeeperStartError) throw err;
      const modes = await this.modes().catch(() => []);
      throw new ZooKeeperStartError(
        `ZooKeeper ensemble ${this.connectString}: timed out after ${timeoutMs} ms waiting for ${what}; modes by index: ${JSON.stringify(modes)}`,
        this.#processes.map((p, i) => `[server ${i}] ${p.logTail(25)}`).join('\n'),
        { cause: err },
      );
    } finally {
      // Detach: a later exit of these JVMs is not a start failure.
      exitAbort.abort(new Error('done'));
    }
  }

  /** Stops server `index` (SIGTERM then SIGKILL after the grace, or SIGKILL at once), keeping its data. */
  async stopServer(index: number, options: StopOptions = {}): Promise<void> {
    this.#checkIndex(index);
    await this.#starting?.catch(() => undefined);
    await this.#processes[index]?.stop({ ...options, graceMs: options.graceMs ?? this.#timings.stopGraceMs });
  }

  /**
   * Starts server `index` again (same ports and data) and resolves once it answers `ruok` and, when a
   * majority of the ensemble runs, once it serves (joined as leader or follower).
   */
  async startServer(index: number): Promise<void> {
    this.#checkIndex(index);
    if (this.#closing) throw new IllegalStateError('ZooKeeperEnsemble: startServer() after close()');
    await this.#starting;
    const proc = this.#processes[index];
    if (proc === undefined) throw new IllegalStateError('ZooKeeperEnsemble: startServer() before start()');
    if (proc.running) return;
    const p = this.#knownPorts()[index]!;
    const host = this.#hosts[index]!;
    const busy = await this.#busyPorts([index]);
    if (busy.length > 0) {
      throw new ZooKeeperStartError(`ZooKeeper ensemble: cannot start server ${index}: ${busy.join(', ')} already in use`, '');
    }
    proc.spawn();
    const running = this.#processes.filter((q) => q.running && !q.paused).length;
    try {
      if (running >= this.quorumSize) {
        await this.#waitUntil(
          [proc],
          async () => {
            const mode = await serverMode(host, p.client);
            return mode === 'leader' || mode === 'follower';
          },
          `server ${index} to rejoin the ensemble`,
        );
        await this.#checkIdentity([index]); // `conf` answers only once the server serves
      } else {
        await this.#waitUntil([proc], () => isAlive(host, p.client), `server ${index} to answer ruok`);
      }
    } catch (err) {
      await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
      throw err;
    }
  }

  /** Fails when a client port is answered by a ZooKeeper other than ours (same port, other data). */
  async #checkIdentity(indexes: readonly number[]): Promise<void> {
    const ports = this.#knownPorts();
    for (const i of indexes) {
      const ours = await servesDataDir(this.#hosts[i]!, ports[i]!.client, join(this.#serverDir(i), 'data')).catch(() => false);
      if (!ours) {
        throw new ZooKeeperStartError(
          `ZooKeeper ensemble: ${this.#hosts[i]}:${ports[i]!.client} (server ${i}) is answered by another ZooKeeper`,
          this.logTail(i),
        );
      }
    }
  }

  /** `stopServer(index, options)` then `startServer(index)`. */
  async restartServer(index: number, options: StopOptions = {}): Promise<void> {
    await this.stopServer(index, options);
    await this.startServer(index);
  }

  /** Freezes server `index` (SIGSTOP): it keeps its sockets but answers nothing. */
  pauseServer(index: number): void {
    this.#runningProcess(index, 'pauseServer').pause();
  }

  /** Thaws server `index` after `pauseServer` (SIGCONT). */
  resumeServer(index: number): void {
    this.#runningProcess(index, 'resumeServer').resume();
  }

  /**
   * Waits until every running, unfrozen server serves and exactly one is leader (e.g. after a fault
   * test healed), or fails after `timeoutMs` with the servers' log tails.
   * @param timeoutMs @default startTimeoutMs (30000)
   */
  async waitForQuorum(timeoutMs = this.#timings.startTimeoutMs): Promise<void> {
    const live = () => this.#processes.map((p, i) => (p.running && !p.paused ? i : -1)).filter((i) => i >= 0);
    try {
      await waitFor(
        async () => {
          const modes = await this.modes();
          const indexes = live();
          return indexes.length >= this.quorumSize &&
            indexes.every((i) => modes[i] === 'leader' || modes[i] === 'follower') &&
            modes.filter((m) => m === 'leader').length === 1;
        },
        { timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      throw new ZooKeeperStartError(
        `ZooKeeper ensemble: no quorum with one leader among running servers ${JSON.stringify(live())} within ${timeoutMs} ms; modes by index: ${JSON.stringify(await this.modes())}`,
        this.#processes.map((p, i) => `[server ${i}] ${p.logTail(25)}`).join('\n'),
        { cause: err },
      );
    }
  }

  /** Stops every server and removes the temp directory (unless kept). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await Promise.all(this.#processes.map((p) => p.stop({ graceMs: this.#timings.stopGraceMs })));
    if (this.#dir !== undefined && this.#removesDir()) {
      await rm(this.#dir, { recursive: true, force: true, maxRetries: 3 });
      this.#unregisterDirCleanup?.();
    }
  }

  #runningProcess(index: number, what: string): ZooKeeperProcess {
    this.#checkIndex(index);
    const proc = this.#processes[index];
    if (proc === undefined || !proc.running) throw new IllegalStateError(`ZooKeeperEnsemble: ${what}(${index}) while that server does not run`);
    return proc;
  }

  /**
   * `host:port` of each port of the given servers that something else listens on. A server in a
   * namespace of its own is not checked: nothing else runs there, and the host cannot bind its address.
   */
  async #busyPorts(indexes: readonly number[]): Promise<string[]> {
    const ports = this.#knownPorts();
    const busy: string[] = [];
    for (const i of indexes) {
      if (this.#options.netns !== undefined) continue;
      const p = ports[i]!;
      for (const port of await busyPorts([p.client, p.peer, p.election], this.#hosts[i])) busy.push(`${this.#hosts[i]}:${port}`);
    }
    return busy;
  }

  #knownPorts(): EnsemblePorts[] {
    if (this.#ports === undefined) throw new IllegalStateError('ZooKeeperEnsemble: ports are picked by start(); call it first');
    return this.#ports;
  }

  #serverDir(index: number): string {
    if (this.#dir === undefined) throw new IllegalStateError('ZooKeeperEnsemble: no directory before start()');
    return join(this.#dir, `server-${index + 1}`);
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`server index must be an integer in 0..${this.size - 1}, got ${index}`);
    }
  }

  #removesDir(): boolean {
    return !(this.#options.keepDataDir ?? !this.#ownedTemp);
  }
}
