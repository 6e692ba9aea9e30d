import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from '../../src/worker/worker.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import type { JobDefinition } from '../../src/config/job-definition.js';
import type { ZkClient } from '../../src/zk/zk-client.js';
import { ZkTestContext } from '../support/zk-test-client.js';
import { zkConnect } from '../support/zk-connect.js';
import { waitFor } from '../support/wait-for.js';
import { testJob } from '../support/test-job.js';

const REPO = resolve(import.meta.dirname, '..', '..');
/** The built CLI (`npx tsc -p .` first; `npm test` builds). */
export const ZKCTL_BIN = join(REPO, 'dist', 'src', 'cli', 'zkctl.js');

/** A complete job definition using the record fixture; every-second cron, 4 items. */
export function def(name: string, extra: Partial<JobDefinition> = {}): JobDefinition {
  return testJob(name, { jobParameter: 'sleepMs=10', ...extra });
}

/**
 * One test's fleet: its own namespace, in-process workers (so that `zkctl` runs against live
 * workers without extra processes) and an observer client. `close()` stops and removes everything.
 */
export class TestFleet {
  readonly ctx: ZkTestContext;
  readonly dir = mkdtempSync(join(tmpdir(), 'zkshard-zkctl-'));
  readonly workers: Worker[] = [];
  private observer: ZkClient | undefined;

  constructor(prefix: string) {
    this.ctx = new ZkTestContext(prefix);
    process.env.RECORD_FILE = join(this.dir, 'record.jsonl');
    writeFileSync(process.env.RECORD_FILE, '');
  }

  get namespace(): string {
    return this.ctx.namespace;
  }

  get paths() {
    return this.ctx.paths;
  }

  async zk(): Promise<ZkClient> {
    return (this.observer ??= await this.ctx.client());
  }

  /** Starts a worker declaring `jobs` and waits until it runs. */
  async start(id: string, jobs: JobDefinition[], options: { capacity?: number; labels?: Record<string, string> } = {}): Promise<Worker> {
    const w = new Worker({
      connect: zkConnect(), namespace: this.namespace, sessionTimeoutMs: 4000, id, shutdownGraceMs: 300,
      capacity: options.capacity, labels: options.labels,
      jobs: jobs.map((d) => ({ definition: d, overwrite: false })), baseDir: this.dir, logger: silentLogger(),
    });
    this.workers.push(w);
    await w.start();
    return w;
  }

  /** Waits until every item of `job` (with `shards` items) is owned by a started worker. */
  async owned(job: string, shards: number): Promise<void> {
    await waitFor(() => this.workers.flatMap((w) => w.owned()[job] ?? []).length === shards, { timeoutMs: 15_000, message: `all ${shards} items of ${job} owned` });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.shutdown()));
    await this.ctx.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ZkctlResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `zkctl` asynchronously (never spawnSync: in-process workers must keep their
 * sessions alive meanwhile). `--zk` and `--namespace` come first unless `raw`.
 */
export function zkctl(args: string[], options: { namespace?: string; zk?: string; env?: Record<string, string>; timeoutMs?: number; raw?: boolean } = {}): Promise<ZkctlResult> & { child: ReturnType<typeof spawn> } {
  if (!existsSync(ZKCTL_BIN)) throw new Error(`${ZKCTL_BIN} is missing: build first (npx tsc -p .)`);
  const globals = options.raw ? [] : ['--zk', options.zk ?? zkConnect(), ...(options.namespace ? ['--namespace', options.namespace] : [])];
  const child = spawn(process.execPath, [ZKCTL_BIN, ...globals, ...args], {
    env: { ...process.env, ZKSHARD_ZK: '', ZKSHARD_NAMESPACE: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const done = new Promise<ZkctlResult>((res) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  }) as Promise<ZkctlResult> & { child: ReturnType<typeof spawn> };
  Object.defineProperty(done, 'child', { value: child });
  // Live view of the output so far, for tests that wait on a running command.
  Object.defineProperty(done, 'output', { get: () => stdout });
  return done;
}

/** The stdout collected so far from a running `zkctl(...)`. */
export function outputSoFar(run: Promise<ZkctlResult>): string {
  return (run as unknown as { output: string }).output;
}

/** Parses stdout as JSON (with the output in the error when it is not). */
export function json<T = unknown>(r: ZkctlResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
