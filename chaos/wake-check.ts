import { readFileSync } from 'node:fs';

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

/** The process's state letter and CPU time so far (ms), or undefined once it is gone. */
function readStat(pid: number): { state: string; cpuMs: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    return { state: f[0]!, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100 }; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
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
 * whole wait). Resolves with undefined when the process is gone.
 */
export async function wakeState(pid: number, afterMs: number, sleep: (ms: number) => Promise<unknown>): Promise<WakeState | undefined> {
  const before = readStat(pid);
  await sleep(afterMs);
  const after = readStat(pid);
  if (!before || !after) return undefined;
  return { afterMs, state: after.state, cpuMs: after.cpuMs - before.cpuMs, wchan: readWchan(pid) };
}
