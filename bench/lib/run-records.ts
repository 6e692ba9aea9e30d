import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One handler entry, as recorded by bench-handler.js. */
export interface RunRecord {
  job: string;
  item: number;
  fire: number;
  entry: number;
  attempt: number;
  worker: string;
  /** The run's fencing token (absent in records of older bench handlers). */
  token?: string;
}

/** Reads every `runs-*.txt` the bench handler wrote in `dir` (a line cut by a kill is skipped). */
export function readRunRecords(dir: string): RunRecord[] {
  const out: RunRecord[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith('runs-') && n.endsWith('.txt'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const rec = parseRunLine(line);
      if (rec) out.push(rec);
    }
  }
  return out;
}

/** One line of bench-handler.js (`job item fire entry attempt worker [token]`), or undefined if cut. */
export function parseRunLine(line: string): RunRecord | undefined {
  const p = line.split(' ');
  if (p.length !== 6 && p.length !== 7) return undefined;
  const rec: RunRecord = { job: p[0]!, item: Number(p[1]), fire: Number(p[2]), entry: Number(p[3]), attempt: Number(p[4]), worker: p[5]!, ...(p[6] ? { token: p[6] } : {}) };
  return Number.isFinite(rec.item) && Number.isFinite(rec.fire) && Number.isFinite(rec.entry) && Number.isFinite(rec.attempt) ? rec : undefined;
}
