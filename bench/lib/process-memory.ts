import { readFileSync } from 'node:fs';

/** Resident set size of a process in MB (from /proc), or undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  return residentMb(pid)?.rss;
}

/**
 * A process's resident memory in MB (from /proc/<pid>/status): all of it, the anonymous part (heap,
 * buffers, malloc arenas, stacks) and the part backed by files (the node binary and its libraries,
 * shared with every other node process); undefined when it is gone.
 */
export function residentMb(pid: number): { rss: number; anon: number; file: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
}
