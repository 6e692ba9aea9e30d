import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runScript } from '../../src/executor/script-runner.js';
import type { JobContext } from '../../src/executor/job-context.js';
import { LeaseLostError } from '../../src/errors/lease-lost-error.js';
import { ShutdownError } from '../../src/errors/shutdown-error.js';
import { RunTimeoutError } from '../../src/errors/run-timeout-error.js';
import { ZkshardError } from '../../src/errors/zkshard-error.js';
import { silentLogger } from '../../src/logging/create-logger.js';
import { waitFor } from '../support/wait-for.js';

const SCRIPT_PARENT = fileURLToPath(new URL('../fixtures/handlers/script-parent.mjs', import.meta.url));

function context(signal: AbortSignal): JobContext {
  return {
    job: 'script',
    item: 0,
    itemParameter: undefined,
    jobParameter: '',
    shards: 1,
    fireTime: new Date(0),
    fireId: 'script@1970-01-01T00:00:00.000Z#0',
    attempt: 1,
    workerId: 'w',
    fencingToken: '1',
    startedAt: new Date(0),
    signal,
    log: silentLogger(),
    stage: () => Promise.reject(new Error('no stages here')),
  };
}

/** Pids of the group's processes that still run (zombies, dead but not yet reaped by init, do not count). */
function runningInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/**
 * A script whose whole process group ignores SIGTERM (`trap '' TERM` is inherited by its
 * children), with a background child: it writes its process group id, then waits forever.
 */
const IGNORES_SIGTERM = `trap '' TERM; sleep 60 & cut -d' ' -f5 /proc/$$/stat > pgid; wait`;

describe('runScript', () => {
  let dir: string;
  const groups: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zkshard-script-'));
  });
  afterEach(() => {
    for (const pgid of groups.splice(0)) for (const pid of runningInGroup(pgid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the SIGTERM-ignoring script; resolves once it runs, with its group id and outcome. */
  async function startStubbornScript(options: { killGraceMs?: number; leaseRemainingMs?: () => number } = {}) {
    const abort = new AbortController();
    let settledAt: number | undefined;
    const outcome = runScript(context(abort.signal), { command: IGNORES_SIGTERM, cwd: dir, ...options }).then(
      () => {
        settledAt = performance.now();
        return undefined;
      },
      (err: unknown) => {
        settledAt = performance.now();
        return err;
      },
    );
    const pgid = await waitFor(() => existsSync(join(dir, 'pgid')) && Number(readFileSync(join(dir, 'pgid'), 'utf8')), { message: 'script started' });
    groups.push(pgid);
    return { abort, pgid, outcome, settledAt: () => settledAt };
  }

  it('SIGKILLs the whole process group at once when the lease is lost, though it ignores SIGTERM', async () => {
    const script = await startStubbornScript(); // default killGraceMs: 5 s
    const abortedAt = performance.now();
    script.abort.abort(new LeaseLostError());
    await waitFor(() => script.settledAt() !== undefined, { timeoutMs: 1000, message: 'script ended after the lease was lost' });
    expect(script.settledAt()! - abortedAt).toBeLessThan(1000);
    expect(await script.outcome).toMatchObject({ code: 'SCRIPT_FAILED' });
    await waitFor(() => runningInGroup(script.pgid).length === 0, { timeoutMs: 1000, message: 'no process of the script group left' });
  });

  it('never lets a script outlive the lease deadline, whatever the abort and the grace period', async () => {
    let deadline = Number.POSITIVE_INFINITY;
    const script = await startStubbornScript({ killGraceMs: 30_000, leaseRemainingMs: () => deadline - performance.now() });
    deadline = performance.now() + 300;
    script.abort.abort(new ShutdownError());
    await waitFor(() => script.settledAt() !== undefined, { timeoutMs: 1500, message: 'script ended by the lease deadline' });
    expect(script.settledAt()! - deadline).toBeLessThan(1000);
    await waitFor(() => runningInGroup(script.pgid).length === 0, { timeoutMs: 1000, message: 'no process of the script group left' });
  });

  it('gives other aborts SIGTERM first and SIGKILL after killGraceMs', async () => {
    const abort = new AbortController();
    // Notes the SIGTERM, then goes on (as a script that cleans up slowly would).
    const command = `trap 'echo term > term' TERM; echo $$ > pgid; while :; do sleep 0.05; done`;
    const outcome = runScript(context(abort.signal), { command, cwd: dir, killGraceMs: 400 }).catch((err: unknown) => err);
    const pgid = await waitFor(() => existsSync(join(dir, 'pgid')) && Number(readFileSync(join(dir, 'pgid'), 'utf8')), { message: 'script started' });
    groups.push(pgid);
    const abortedAt = performance.now();
    abort.abort(new RunTimeoutError(1000));
    await waitFor(() => existsSync(join(dir, 'term')), { timeoutMs: 2000, message: 'SIGTERM noted by the script' });
    const err = await outcome;
    const endedAfterMs = performance.now() - abortedAt;
    expect(err).toMatchObject({ code: 'SCRIPT_FAILED', message: expect.stringContaining('SIGKILL') });
    expect(endedAfterMs).toBeGreaterThanOrEqual(400);
    expect(endedAfterMs).toBeLessThan(3000);
  });

  it('SIGKILLs what is left of the group when a stopped script exits', async () => {
    const abort = new AbortController();
    // Exits on SIGTERM, leaving a background child that ignores it.
    const command = `(trap '' TERM; sleep 60) & trap 'exit 0' TERM; echo $$ > pgid; while :; do sleep 0.05; done`;
    const outcome = runScript(context(abort.signal), { command, cwd: dir, killGraceMs: 30_000 }).catch((err: unknown) => err);
    const pgid = await waitFor(() => existsSync(join(dir, 'pgid')) && Number(readFileSync(join(dir, 'pgid'), 'utf8')), { message: 'script started' });
    groups.push(pgid);
    abort.abort(new ShutdownError());
    await waitFor(() => runningInGroup(pgid).length === 0, { timeoutMs: 2000, message: 'no process of the script group left' });
    await outcome;
  });

  it('spawns nothing when the signal is already aborted', async () => {
    const abort = new AbortController();
    abort.abort(new ShutdownError());
    // Ignores SIGTERM: had it been spawned, it would leave its file behind.
    const err = await runScript(context(abort.signal), { command: `trap '' TERM; touch ran`, cwd: dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ZkshardError);
    expect(err).toMatchObject({ code: 'SCRIPT_NOT_STARTED', cause: expect.any(ShutdownError) });
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('spawns nothing when the lease has already run out', async () => {
    const abort = new AbortController();
    const err = await runScript(context(abort.signal), { command: `touch ran`, cwd: dir, leaseRemainingMs: () => 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'SCRIPT_NOT_STARTED' });
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('runs a script to success with the run facts in its environment', async () => {
    const abort = new AbortController();
    await runScript(context(abort.signal), { command: `echo "$ZKSHARD_JOB#$ZKSHARD_ITEM $ZKSHARD_STARTED_AT" > out`, cwd: dir });
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('script#0 1970-01-01T00:00:00.000Z\n');
  });

  it('the whole process group dies with the worker process (SIGKILL), scripts that ignore SIGTERM included', async () => {
    // A stand-in worker process: runs a stubborn script through runScript, then is SIGKILLed.
    const parent = spawn(process.execPath, [SCRIPT_PARENT, IGNORES_SIGTERM], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    await waitFor(() => existsSync(join(dir, 'pgid')) && readFileSync(join(dir, 'pgid'), 'utf8').trim() !== '', { timeoutMs: 10_000, message: 'the script runs' });
    const pgid = Number(readFileSync(join(dir, 'pgid'), 'utf8'));
    groups.push(pgid);
    expect(runningInGroup(pgid).length).toBeGreaterThanOrEqual(2); // the script and its sleep
    parent.kill('SIGKILL');
    await waitFor(() => runningInGroup(pgid).length === 0, { timeoutMs: 3000, intervalMs: 20, message: 'the script group gone with its worker' });
  });
});
