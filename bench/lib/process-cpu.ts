import { readdirSync, readFileSync } from 'node:fs';
import { clockTicks, readProcessStat, type ProcessStat } from '../../src/testing/process-stat.js';

/**
 * CPU seconds used so far by a process and all its descendants, counting those that ended and were
 * waited for (a PostgreSQL server: the postmaster and its backends). Linux /proc only.
 */
export function treeCpuSeconds(rootPid: number): number {
  const byParent = new Map<number, number[]>();
  const stats = new Map<number, ProcessStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcessStat(Number(name));
    if (!s) continue;
    stats.set(Number(name), s);
    (byParent.get(s.ppid) ?? byParent.set(s.ppid, []).get(s.ppid)!).push(Number(name));
  }
  let ticks = 0;
  const visit = (pid: number) => {
    const s = stats.get(pid);
    if (!s) return;
    // A child's own time is counted while it lives; once reaped it is in its parent's `reaped`.
    ticks += s.ownTicks + s.reapedTicks;
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
