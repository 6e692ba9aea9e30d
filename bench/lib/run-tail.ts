import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunLine, type RunRecord } from './run-records.js';

/**
 * Reads the bench handler's run records (`runs-*.txt` in `dir`) incrementally: each `poll()`
 * reads only what was appended since the last one, so a scenario can poll every few hundred ms
 * for minutes without re-reading everything. `records` keeps them all, in file order (unless
 * `keep` is false: then only `poll()` returns them).
 */
export class RunTail {
  readonly records: RunRecord[] = [];
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(
    private readonly dir: string,
    private readonly keep = true,
  ) {}

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
    if (this.keep) for (const r of fresh) this.records.push(r);
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
