import { readFileSync } from 'node:fs';
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
 * whole wait). Resolves with undefined when the process is gone.
 */
export async function wakeState(pid: number, afterMs: number, sleep: (ms: number) => Promise<unknown>): Promise<WakeState | undefined> {
  const before = readProcessStat(pid);
  await sleep(afterMs);
  const after = readProcessStat(pid);
  if (!before || !after) return undefined;
  const cpuMs = ((after.ownTicks - before.ownTicks) * 1000) / clockTicks();
  return { afterMs, state: after.state, cpuMs, wchan: readWchan(pid) };
}
