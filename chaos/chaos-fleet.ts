import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RecordedNote, RunEvent, SessionEvent } from './chaos-records.js';

/** The repository root (works from chaos/ in the sources and from dist/chaos/). */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json')))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('chaos: cannot find the repository root');
    dir = up;
  }
  return dir;
}

interface Proc {
  id: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * The chaos suite's worker processes (`zkshard worker`), by worker id; a restart keeps the id and
 * gets a new pid. Every process logs to `<dir>/worker-<id>-<pid>.log`.
 */
export class ChaosFleet {
  private readonly current = new Map<string, Proc>();
  private readonly all: Proc[] = [];
  private readonly bin = join(repoRoot(), 'dist', 'src', 'cli', 'zkshard.js');

  constructor(
    private readonly dir: string,
    private readonly configFile: string,
    private readonly env: Record<string, string>,
  ) {}

  get ids(): string[] {
    return [...this.current.keys()];
  }

  pid(id: string): number | undefined {
    return this.current.get(id)?.child.pid;
  }

  alive(id: string): boolean {
    const p = this.current.get(id);
    return !!p && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** pids of processes running now (frozen ones included). */
  livePids(): Set<number> {
    return new Set(this.ids.filter((id) => this.alive(id)).map((id) => this.pid(id)!));
  }

  start(id: string): number {
    if (!existsSync(this.bin)) throw new Error(`chaos: ${this.bin} is missing: run npm run build first`);
    const child = spawn(process.execPath, [this.bin, 'worker', '--config', this.configFile, '--id', id], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(join(this.dir, `worker-${id}-${child.pid}.log`));
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const proc: Proc = { id, child, exited: new Promise((res) => child.once('exit', () => res())) };
    this.current.set(id, proc);
    this.all.push(proc);
    return child.pid!;
  }

  signal(id: string, signal: NodeJS.Signals): void {
    const p = this.current.get(id);
    if (p?.child.pid && this.alive(id)) process.kill(p.child.pid, signal);
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

/** Reads the handlers' run logs. */
export function readRunEvents(dir: string): RunEvent[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('runs-') && f.endsWith('.jsonl'))
    .flatMap((f) => readJsonLines<RunEvent>(join(dir, f)));
}

/** Reads the workers' session events and recorded missed/skipped notes from their JSON logs. */
export function readWorkerLogs(dir: string): { sessions: SessionEvent[]; notes: RecordedNote[] } {
  const sessions: SessionEvent[] = [];
  const notes: RecordedNote[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('worker-') && n.endsWith('.log'))) {
    for (const line of readJsonLines<Record<string, unknown>>(join(dir, f))) {
      const at = Date.parse(String(line.time));
      const worker = String(line.worker ?? '');
      const pid = Number(line.pid);
      if (line.msg === 'registered as member') sessions.push({ worker, pid, at, kind: 'joined', member: String(line.member) });
      else if (line.msg === 'session state' && (line.state === 'lost' || line.state === 'expired')) sessions.push({ worker, pid, at, kind: 'lost' });
      else if (line.msg === 'recorded fires not run') {
        notes.push({ job: String(line.job), item: Number(line.item), outcome: line.outcome === 'skipped' ? 'skipped' : 'missed', count: Number(line.count), latest: String(line.latest), at });
      }
    }
  }
  return { sessions, notes };
}

function readJsonLines<T>(file: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      /* a line cut by a kill */
    }
  }
  return out;
}
