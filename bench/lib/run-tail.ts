import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../lib/run-records.js';

/**
 * Reads the bench handler's run records (`runs-*.txt` in `dir`) incrementally: each `poll()`
 * reads only what was appended since the last one, so a scenario can poll every few hundred ms
 * for minutes without re-reading everything. `records` keeps them all, in file order.
 */
export class RunTail {
  readonly records: RunRecord[] = [];
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly dir: string) {}

  /** Reads new complete lines of every run file; returns the records they hold. */
  poll(): RunRecord[] {
    const fresh: RunRecord[] = [];
    for (const name of readdirSync(this.dir).filter((n) => n.startsWith('runs-') && n.endsWith('.txt'))) {
      const text = this.readNew(join(this.dir, name));
      if (text === '') continue;
      const lines = ((this.partial.get(name) ?? '') + text).split('\n');
      this.partial.set(name, lines.pop() ?? '');
      for (const line of lines) {
        const rec = parseRunLine(line);
        if (rec) fresh.push(rec);
      }
    }
    this.records.push(...fresh);
    return fresh;
  }

  private readNew(file: string): string {
    const fd = openSync(file, 'r');
    try {
      const from = this.offsets.get(file) ?? 0;
      const size = fstatSync(fd).size;
      if (size <= from) return '';
      const buf = Buffer.alloc(size - from);
      const n = readSync(fd, buf, 0, buf.length, from);
      this.offsets.set(file, from + n);
      return buf.toString('utf8', 0, n);
    } finally {
      closeSync(fd);
    }
  }
}

/** One line of bench-handler.js (`job item fire entry attempt worker`), or undefined if cut. */
export function parseRunLine(line: string): RunRecord | undefined {
  const p = line.split(' ');
  if (p.length !== 6) return undefined;
  const rec = { job: p[0]!, item: Number(p[1]), fire: Number(p[2]), entry: Number(p[3]), attempt: Number(p[4]), worker: p[5]! };
  return Number.isFinite(rec.item) && Number.isFinite(rec.fire) && Number.isFinite(rec.entry) && Number.isFinite(rec.attempt) ? rec : undefined;
}
