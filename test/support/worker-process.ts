import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from './wait-for.js';
import type { NetworkNamespace } from '../../src/testing/network-namespace.js';

const REPO = resolve(import.meta.dirname, '..', '..');
export const ZKSHARD_BIN = join(REPO, 'dist', 'src', 'cli', 'zkshard.js');
export const RECORD_HANDLER = join(REPO, 'test', 'fixtures', 'handlers', 'record.js');
export const RECORD_SCRIPT = join(REPO, 'test', 'fixtures', 'handlers', 'record.sh');
export const STAGED_SCRIPT = join(REPO, 'test', 'fixtures', 'handlers', 'staged.sh');
export const IGNORE_TERM_SCRIPT = join(REPO, 'test', 'fixtures', 'handlers', 'ignore-term.sh');

/** One line of the record fixture's output. */
export interface RunRecord {
  event: 'start' | 'end' | 'aborted' | 'failed' | 'stage' | 'script';
  worker: string;
  job: string;
  item: number;
  fire: string;
  attempt: number;
  token: string;
  at: number;
  param?: string | null;
  [key: string]: unknown;
}

/** A worker started as a real process (`zkshard worker --config ...`), on the host or inside a network namespace. */
export class WorkerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  readonly logFile: string;

  constructor(
    readonly id: string,
    private readonly configFile: string,
    private readonly env: Record<string, string>,
    dir: string,
    private readonly netns?: NetworkNamespace,
  ) {
    this.logFile = join(dir, `${id}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): this {
    const out = createWriteStream(this.logFile, { flags: 'a' });
    const argv = [process.execPath, ZKSHARD_BIN, 'worker', '--config', this.configFile, '--id', this.id];
    const [file, ...args] = this.netns === undefined ? argv : this.netns.command(argv); // `ip netns exec` execs: same pid
    const child = spawn(file!, args, {
      env: { ...process.env, ZKSHARD_LOG_LEVEL: 'debug', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    return this;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child?.pid && this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid, signal);
  }

  waitExit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return Promise.race([
      this.exited!,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`worker ${this.id} did not exit within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Lines the worker logged (JSON), parsed. */
  logLines(): Array<Record<string, unknown>> {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    if (this.running) {
      this.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** A fleet of worker processes sharing one config file and a record file. */
export class Fleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'zkshard-fleet-'));
  readonly recordFile = join(this.dir, 'record.jsonl');
  readonly configFile = join(this.dir, 'worker.yaml');
  readonly workers: WorkerProcess[] = [];

  /** `env` is added to every worker's environment (e.g. `ZKSHARD_ZK`, which overrides the file). */
  constructor(config: Record<string, unknown>, private readonly env: Record<string, string> = {}) {
    writeFileSync(this.configFile, stringify(config));
    writeFileSync(this.recordFile, '');
  }

  /** Starts worker `id`, inside `netns` when given. */
  start(id: string, netns?: NetworkNamespace): WorkerProcess {
    const w = new WorkerProcess(id, this.configFile, { ...this.env, RECORD_FILE: this.recordFile }, this.dir, netns).start();
    this.workers.push(w);
    return w;
  }

  records(): RunRecord[] {
    return readFileSync(this.recordFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
  }

  /** Waits until `predicate` holds over the records. */
  waitForRecords(predicate: (r: RunRecord[]) => boolean, message: string, timeoutMs = 20_000): Promise<unknown> {
    return waitFor(() => predicate(this.records()), { timeoutMs, intervalMs: 100, message });
  }

  async close(keep = false): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A worker config for tests: one ZooKeeper, a namespace, jobs using the record fixture. */
export function fleetConfig(connect: string, namespace: string, jobs: Array<Record<string, unknown>>, sessionTimeoutMs = 3000): Record<string, unknown> {
  return {
    zookeeper: { connect, namespace, sessionTimeoutMs },
    worker: { shutdownGraceMs: 5000 },
    jobs,
  };
}
