import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

/** utime, stime, cutime, cstime and ppid of a process from /proc/<pid>/stat, or undefined when it is gone. */
function stat(pid: number): { ppid: number; own: number; reaped: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by a process and all its descendants, counting those that ended and were
 * waited for (a PostgreSQL server: the postmaster and its backends). Linux /proc only.
 */
export function treeCpuSeconds(rootPid: number): number {
  const byParent = new Map<number, number[]>();
  const stats = new Map<number, { own: number; reaped: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s) continue;
    stats.set(Number(name), s);
    (byParent.get(s.ppid) ?? byParent.set(s.ppid, []).get(s.ppid)!).push(Number(name));
  }
  let ticks = 0;
  const visit = (pid: number) => {
    const s = stats.get(pid);
    if (!s) return;
    // A child's own time is counted while it lives; once reaped it is in its parent's `reaped`.
    ticks += s.own + s.reaped;
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return ticks / clockTicks();
}

/** The machine's CPU time so far from /proc/stat, in clock ticks summed over every CPU: busy and all. */
export function machineCpuTicks(): { busy: number; all: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!; // "cpu  user nice system idle iowait irq softirq steal ..."
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  return { busy: all - f[3]! - f[4]!, all };
}

/** Cores busy on average between two {@link machineCpuTicks} readings (of `cpus` in all). */
export function busyCores(before: { busy: number; all: number }, after: { busy: number; all: number }, cpus: number): number {
  const all = after.all - before.all;
  return all > 0 ? ((after.busy - before.busy) / all) * cpus : 0;
}
