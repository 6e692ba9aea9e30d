import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { onProcessExit } from './exit-cleanup.js';
import { findExecutable } from './java.js';

/** How to run one ZooKeeper JVM. */
export interface ZooKeeperProcessSpec {
  /** Path of the java executable. */
  java: string;
  jvmOptions: readonly string[];
  /** Server directory: working directory, holder of `log4j.properties` (first on the classpath). */
  dir: string;
  classpath: readonly string[];
  /** `org.apache.zookeeper.server.ZooKeeperServerMain` or `...quorum.QuorumPeerMain`. */
  mainClass: string;
  configFile: string;
  /** stdout and stderr of the JVM are appended here. */
  logFile: string;
  /**
   * A command that execs the JVM in another context, e.g. `ip netns exec <ns>` to run it inside a
   * network namespace (it must exec, so that the pid stays the JVM's). @default none
   */
  prefix?: readonly string[];
}

/** How a stop ends the JVM. */
export interface StopOptions {
  /**
   * `SIGTERM` lets the JVM shut down cleanly (SIGKILL after `graceMs`); `SIGKILL` is a crash.
   * @default 'SIGTERM'
   */
  signal?: 'SIGTERM' | 'SIGKILL';
  /** How long to wait after SIGTERM before SIGKILL. @default the owner's `stopGraceMs` (5000) */
  graceMs?: number;
}

/** How the last JVM ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: Error;
}

let pdeathsigWrapper: string | null | undefined;

/**
 * `setpriv --pdeathsig KILL` (util-linux) when available: it sets the parent-death signal and then
 * execs java, so java keeps the pid we see and the kernel kills it if this Node process dies
 * without running its 'exit' handlers (SIGKILL, OOM kill, crash).
 */
function parentDeathWrapper(): string | null {
  if (pdeathsigWrapper !== undefined) return pdeathsigWrapper;
  pdeathsigWrapper = null;
  if (process.platform === 'linux') {
    const setpriv = findExecutable('setpriv');
    if (setpriv !== undefined) {
      const help = spawnSync(setpriv, ['--help'], { encoding: 'utf8', timeout: 5000 });
      if (`${help.stdout}${help.stderr}`.includes('--pdeathsig')) pdeathsigWrapper = setpriv;
    }
  }
  return pdeathsigWrapper;
}

/**
 * One ZooKeeper JVM, spawned again on every `spawn()`. The JVM runs in its own process group (a
 * Ctrl-C in the terminal does not reach it; the owner stops it), is killed with SIGKILL if this
 * process exits without stopping it, and gets the parent-death signal where `setpriv` exists.
 */
export class ZooKeeperProcess {
  readonly spec: ZooKeeperProcessSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  #running = false;
  #paused = false;
  #lastExit: ExitInfo | undefined;

  constructor(spec: ZooKeeperProcessSpec) {
    this.spec = spec;
  }

  /** Pid of the running JVM, `undefined` when none runs. */
  get pid(): number | undefined {
    return this.#running ? this.#child?.pid : undefined;
  }

  /** True from `spawn()` until the JVM has exited (also while it is paused). */
  get running(): boolean {
    return this.#running;
  }

  /** True while stopped by `pause()`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** How the previous JVM ended; `undefined` before the first exit. */
  get lastExit(): ExitInfo | undefined {
    return this.#lastExit;
  }

  /** Resolves when the current JVM has exited (at once when none runs). */
  exited(): Promise<ExitInfo> {
    return this.#exited;
  }

  /** Starts the JVM; does not wait for it to serve. */
  spawn(): void {
    if (this.#running) throw new Error(`ZooKeeper JVM already running (pid ${this.pid})`);
    const { spec } = this;
    const javaArgs = [
      ...spec.jvmOptions,
      `-Dzookeeper.log.dir=${spec.dir}`,
      '-cp',
      [spec.dir, ...spec.classpath].join(':'),
      spec.mainClass,
      spec.configFile,
    ];
    const wrapper = parentDeathWrapper();
    const argv = [...(spec.prefix ?? []), spec.java, ...javaArgs];
    const [command, args] = wrapper === null ? [argv[0]!, argv.slice(1)] : [wrapper, ['--pdeathsig', 'KILL', '--', ...argv]];
    appendFileSync(spec.logFile, `--- zkshard: starting ${[command, ...args].join(' ')}\n`);
    const fd = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: spec.dir, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    // A forgotten server must not keep Node alive; the exit handler below still kills it.
    child.unref();
    this.#child = child;
    this.#running = true;
    this.#paused = false;
    const unregister = onProcessExit(() => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    });
    this.#exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        if (!this.#running || this.#child !== child) return;
        unregister();
        this.#running = false;
        this.#paused = false;
        this.#lastExit = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (error) => {
        // 'error' without a pid: the spawn itself failed, no 'exit' will follow.
        if (child.pid === undefined) done({ code: null, signal: null, error });
      });
    });
  }

  /** Freezes the JVM with SIGSTOP: it holds its sockets but answers nothing (a hung server). */
  pause(): void {
    this.#signal('SIGSTOP');
    this.#paused = true;
  }

  /** Thaws a paused JVM with SIGCONT. */
  resume(): void {
    this.#signal('SIGCONT');
    this.#paused = false;
  }

  /** Ends the JVM (see {@link StopOptions}) and resolves once it has exited. No-op when none runs. */
  async stop(options: StopOptions & { graceMs: number }): Promise<void> {
    const child = this.#child;
    if (!this.#running || child === undefined) return;
    child.ref(); // keep Node alive until the JVM is really gone
    const exited = this.#exited;
    if (options.signal === 'SIGKILL') {
      this.#signal('SIGKILL');
    } else {
      if (this.#paused) this.resume();
      this.#signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), options.graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (graceOver) this.#signal('SIGKILL');
    }
    await exited;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`cannot send ${signal}: ZooKeeper JVM is not running`);
    try {
      process.kill(pid, signal);
    } catch (err) {
      // ESRCH: it exited and the 'exit' event is on its way.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** The last `lines` lines of the server log, under a header naming the file. */
  logTail(lines = 40): string {
    return readLogTail(this.spec.logFile, lines);
  }
}

/** The last `lines` lines of a log file (reads at most its last 64 KiB), with a header line. */
export function readLogTail(file: string, lines: number): string {
  let text: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return `--- ${file}: cannot read (${(err as Error).message}) ---`;
  }
  const tail = text.split('\n').filter((l) => l !== '').slice(-lines);
  return [`--- last ${tail.length} lines of ${file} ---`, ...tail].join('\n');
}
