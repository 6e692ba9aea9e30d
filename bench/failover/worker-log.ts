import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An "owned items changed" line of a worker's JSON log (the fire scheduler's, when its items change). */
export interface OwnershipLine {
  /** The line's `time` (ms since the epoch; pino writes ISO or epoch ms). */
  at: number;
  job: string;
  /** Items gained. */
  added: number[];
}

/** The log file of worker `id` running as `pid` (as `WorkerFleet` names it). */
export function workerLogFile(dir: string, id: string, pid: number): string {
  return join(dir, `worker-${id}-${pid}.log`);
}

/** Every "owned items changed" line of a worker log. */
export function ownershipLines(file: string): OwnershipLine[] {
  if (!existsSync(file)) return [];
  const out: OwnershipLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"owned items changed"')) continue;
    try {
      const o = JSON.parse(line) as { time?: string | number; job?: string; added?: number[] };
      const at = typeof o.time === 'number' ? o.time : Date.parse(o.time ?? '');
      if (Number.isFinite(at) && o.job) out.push({ at, job: o.job, added: o.added ?? [] });
    } catch {
      // a line cut by a kill
    }
  }
  return out;
}

/** When the log says the worker gained `item` of `job`, at or after `since`. */
export function gainedAt(lines: readonly OwnershipLine[], job: string, item: number, since: number): number | undefined {
  return lines.find((l) => l.at >= since && l.job === job && l.added.includes(item))?.at;
}
