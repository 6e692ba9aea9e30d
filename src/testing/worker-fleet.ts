import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NetworkNamespace } from './network-namespace.js';

/** The repository root (works from chaos/ in the sources and from dist/chaos/). */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json')))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json next to tsconfig.json)');
    dir = up;
  }
  return dir;
}

interface Proc {
  id: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** Whether the fleet sent it a signal that ends it (SIGTERM, SIGINT, SIGKILL). */
  asked: boolean;
}

/** A worker process that ended, how, and whether the fleet asked it to. */
export interface WorkerExit {
  id: string;
  pid: number;
  /** ms since the epoch, when the fleet saw it. */
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False: it ended on its own (a crash, an exit of its own), not by a signal from the fleet. */
  asked: boolean;
}

const ENDING_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL']);

/**
 * Worker processes (`zkshard worker --config <file> --id <id>`) for the chaos suite and the
 * benchmarks, by worker id; a restart keeps the id and gets a new pid. Every process logs to
 * `<dir>/worker-<id>-<pid>.log`. `onSpawn` sees every pid (to track it for cleanup).
 */
export class WorkerFleet {
  private readonly current = new Map<string, Proc>();
  private readonly all: Proc[] = [];
  /** Every worker process that ended so far, in order. */
  readonly exits: WorkerExit[] = [];
  private readonly bin = join(repoRoot(), 'dist', 'src', 'cli', 'zkshard.js');

  constructor(
    private readonly dir: string,
    private readonly configFile: string,
    private readonly env: Record<string, string>,
    private readonly onSpawn: (pid: number, exited: Promise<void>) => void = () => {},
    /** Told of every worker process that ends (also kept in `exits`). */
    private readonly onExit: (exit: WorkerExit) => void = () => {},
  ) {}

  get ids(): string[] {
    return [...this.current.keys()];
  }

  pid(id: string): number | undefined {
    return this.current.get(id)?.child.pid;
  }

  /** The log file of worker `id`'s current process. */
  logFile(id: string): string | undefined {
    const p = this.current.get(id);
    return p?.child.pid === undefined ? undefined : join(this.dir, `worker-${id}-${p.child.pid}.log`);
  }

  alive(id: string): boolean {
    const p = this.current.get(id);
    return !!p && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** pids of processes running now (frozen ones included). */
  livePids(): Set<number> {
    return new Set(this.ids.filter((id) => this.alive(id)).map((id) => this.pid(id)!));
  }

  /**
   * Starts worker `id` with the fleet's config file, or its own `configFile`, inside `netns` when
   * given (`ip netns exec` execs: the pid is the worker's); resolves nothing, returns the pid.
   */
  start(id: string, configFile = this.configFile, netns?: NetworkNamespace): number {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} is missing: run npm run build first`);
    const argv = [process.execPath, this.bin, 'worker', '--config', configFile, '--id', id];
    const [file, ...args] = netns === undefined ? argv : netns.command(argv);
    const child = spawn(file!, args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(join(this.dir, `worker-${id}-${child.pid}.log`)); // logFile(id)
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const proc: Proc = {
      id,
      child,
      asked: false,
      exited: new Promise((res) => child.once('exit', (code, signal) => {
        const exit: WorkerExit = { id, pid: child.pid!, at: Date.now(), code, signal, asked: proc.asked };
        this.exits.push(exit);
        this.onExit(exit);
        res();
      })),
    };
    this.current.set(id, proc);
    this.all.push(proc);
    this.onSpawn(child.pid!, proc.exited);
    return child.pid!;
  }

  signal(id: string, signal: NodeJS.Signals): void {
    const p = this.current.get(id);
    if (!p?.child.pid || !this.alive(id)) return;
    if (ENDING_SIGNALS.has(signal)) p.asked = true;
    process.kill(p.child.pid, signal);
  }

  /** Waits for the worker's process to exit, SIGKILLing it after `timeoutMs`. */
  async waitExit(id: string, timeoutMs: number): Promise<void> {
    const p = this.current.get(id);
    if (!p) return;
    const timer = setTimeout(() => this.signal(id, 'SIGKILL'), timeoutMs);
    await p.exited;
    clearTimeout(timer);
  }

  /** SIGTERM to every live worker (SIGCONT first, in case one is frozen), then wait. */
  async stopAll(timeoutMs = 20_000): Promise<void> {
    for (const id of this.ids) {
      this.signal(id, 'SIGCONT');
      this.signal(id, 'SIGTERM');
    }
    await Promise.all(this.ids.map((id) => this.waitExit(id, timeoutMs)));
  }

  /** Kills whatever is still running (never leaves a process behind). */
  killAll(): void {
    for (const p of this.all) {
      if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) {
        p.asked = true;
        try {
          process.kill(p.child.pid, 'SIGCONT');
          process.kill(p.child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}
