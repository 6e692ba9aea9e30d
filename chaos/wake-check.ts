import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { clockTicks, readProcessStat } from '../src/testing/process-stat.js';

/** What a thawed worker process was doing a moment after its SIGCONT (Linux /proc). */
export interface WakeState {
  /** ms after the SIGCONT it was read. */
  afterMs: number;
  /** The process state letter of /proc/<pid>/stat (R running, S sleeping, T stopped, D in a syscall, Z gone). */
  state: string;
  /** CPU time (user + system) it used between the SIGCONT and this reading, in ms. */
  cpuMs: number;
  /** Where in the kernel it waits (/proc/<pid>/wchan), '' when not waiting or unreadable. */
  wchan: string;
  /** Bytes its log file grew by between the SIGCONT and this reading (when a log file was given). */
  loggedBytes?: number;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    return `${fallback} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

function readWchan(pid: number): string {
  try {
    const w = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
    return w === '0' ? '' : w;
  } catch {
    return '';
  }
}

/**
 * Reads, right at a SIGCONT and `afterMs` later, what the process does: a worker that does nothing
 * after its SIGCONT (chaos run of 2026-12-07 18:11, docs/RELIABILITY.md) is then told apart as
 * still stopped (T), blocked in the kernel (D, or S with no CPU used), or spinning (R, CPU ≈ the
 * whole wait). With `logFile`, also how much it logged meanwhile: a thawed worker whose session
 * expired logs so within moments, so nothing logged is the sign to look (`processStacks`). Resolves
 * with undefined when the process is gone.
 */
export async function wakeState(pid: number, afterMs: number, sleep: (ms: number) => Promise<unknown>, logFile?: string): Promise<WakeState | undefined> {
  const before = readProcessStat(pid);
  const logBefore = logFile === undefined ? 0 : fileSize(logFile);
  await sleep(afterMs);
  const after = readProcessStat(pid);
  if (!before || !after) return undefined;
  const cpuMs = ((after.ownTicks - before.ownTicks) * 1000) / clockTicks();
  const state: WakeState = { afterMs, state: after.state, cpuMs, wchan: readWchan(pid) };
  if (logFile !== undefined) state.loggedBytes = fileSize(logFile) - logBefore;
  return state;
}

/**
 * Everything that says where a live process is stuck, as text: each thread's state, wait channel
 * and kernel stack (/proc, root only for the stacks), then every thread's native backtrace from
 * `gdb -batch` when gdb is installed (attaching stops the process for a moment). Bounded: gdb gets
 * `gdbTimeoutMs`.
 */
export async function processStacks(pid: number, gdbTimeoutMs = 30_000): Promise<string> {
  const out: string[] = [`pid ${pid}, read ${new Date().toISOString()}`];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (err) {
    return `${out[0]}: gone (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  for (const tid of tasks) {
    const stat = readProcessStat(Number(tid));
    const comm = readOr(`/proc/${pid}/task/${tid}/comm`, '?');
    const wchan = readOr(`/proc/${pid}/task/${tid}/wchan`, '?');
    out.push(`thread ${tid} (${comm}): state ${stat?.state ?? '?'}, wchan ${wchan}`);
    out.push(readOr(`/proc/${pid}/task/${tid}/stack`, '  kernel stack unreadable').replace(/^/gm, '  '));
  }
  const gdb = await new Promise<string>((resolve) => {
    execFile('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 30'], { encoding: 'utf8', timeout: gdbTimeoutMs, maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      const why = err ? `gdb: ${(err as NodeJS.ErrnoException).code ?? err.message}\n` : '';
      resolve(`${why}gdb thread apply all bt:\n${stdout}${stderr}`);
    });
  });
  out.push(gdb);
  return out.join('\n');
}
