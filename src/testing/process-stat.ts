import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A process as /proc/<pid>/stat has it (Linux only); CPU times in clock ticks (`clockTicks()` a second). */
export interface ProcessStat {
  /** The state letter: R running, S sleeping, D in a syscall, T stopped, Z gone but not waited for. */
  state: string;
  ppid: number;
  /** utime + stime. */
  ownTicks: number;
  /** cutime + cstime: its children that ended and were waited for. */
  reapedTicks: number;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

/** The process's /proc/<pid>/stat, or undefined when it is gone. */
export function readProcessStat(pid: number): ProcessStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on: the name may hold spaces
    return { state: f[0]!, ppid: Number(f[1]), ownTicks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}
