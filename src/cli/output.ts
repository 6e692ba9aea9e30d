/**
 * Human output of zkctl: aligned tables that fit the terminal (100 columns when not a terminal),
 * and JSON for `--json`. Results go to stdout; errors and logs go to stderr.
 */

/** Width of the output: the terminal's, or 100 columns when stdout is not a terminal. */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY && stream.columns ? Math.max(40, stream.columns) : 100;
}

/** Number of terminal columns a string takes (code points; no wide characters in our output). */
export function displayWidth(s: string): number {
  return [...s].length;
}

/** Cuts `s` to `width` columns, ending in `…` when cut. */
export function truncate(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 0) return '';
  return `${chars.slice(0, width - 1).join('')}…`;
}

function pad(s: string, width: number, align: 'left' | 'right'): string {
  const gap = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return align === 'right' ? gap + s : s + gap;
}

export interface TableOptions {
  /** @default outputWidth() */
  maxWidth?: number;
  /** Alignment per column. @default left */
  align?: ReadonlyArray<'left' | 'right'>;
  /** Columns never narrowed below this. @default 4 */
  minWidth?: number;
  /** Spaces between columns. @default 2 */
  gap?: number;
  /** Columns that may be narrowed to fit, in order of preference. @default all, widest first */
  shrink?: readonly number[];
}

/**
 * An aligned table with a header row. When it is wider than `maxWidth`, the widest columns are
 * narrowed (cells cut with `…`) until it fits. Lines have no trailing spaces.
 */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, options: TableOptions = {}): string {
  const maxWidth = options.maxWidth ?? outputWidth();
  const gap = options.gap ?? 2;
  const minWidth = options.minWidth ?? 4;
  const widths = headers.map((h, c) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c] ?? ''))));
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  for (const c of options.shrink ?? []) {
    if (total() <= maxWidth) break;
    const floor = Math.max(minWidth, Math.min(displayWidth(headers[c] ?? ''), widths[c]!));
    widths[c] = Math.max(floor, widths[c]! - (total() - maxWidth));
  }
  while (total() > maxWidth) {
    let widest = 0;
    widths.forEach((w, i) => {
      if (w > widths[widest]!) widest = i;
    });
    if (widths[widest]! <= minWidth) break;
    widths[widest] = Math.max(minWidth, widths[widest]! - Math.max(1, total() - maxWidth));
  }
  const line = (cells: readonly string[]) =>
    widths.map((w, c) => pad(truncate(cells[c] ?? '', w), w, options.align?.[c] ?? 'left')).join(' '.repeat(gap)).replace(/\s+$/, '');
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key  value` lines with the keys aligned; values cut to the width. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>, maxWidth = outputWidth()): string {
  const keyWidth = Math.max(0, ...fields.map(([k]) => displayWidth(k)));
  return fields.map(([k, v]) => truncate(`${pad(k, keyWidth, 'left')}  ${v}`, maxWidth).replace(/\s+$/, '')).join('\n');
}

/** Writes text to stdout with a final newline. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes a value as pretty JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `2026-05-01T10:00:05Z` (no milliseconds), or `-`. */
export function formatTime(isoTime: string | null | undefined): string {
  if (!isoTime) return '-';
  const ms = Date.parse(isoTime);
  if (!Number.isFinite(ms)) return isoTime;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `12s ago` / `in 4m30s` relative to `now` (ms), or `-`. */
export function formatRelative(isoTime: string | null | undefined, now: number): string {
  if (!isoTime) return '-';
  const ms = Date.parse(isoTime);
  if (!Number.isFinite(ms)) return isoTime;
  const d = ms - now;
  if (Math.abs(d) < 1000) return 'now';
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

/** `3d4h`, `2h13m`, `5m07s`, `42s`, or `-`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** `a=1,b=2`, or `-`. */
export function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** A value for a diff line: strings quoted, the rest as JSON. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '-';
  return JSON.stringify(v);
}

/**
 * Wraps `text` at spaces to `width` columns; continuation lines start with `indent` spaces.
 * A word longer than a line is cut across lines.
 */
export function wrap(text: string, width: number, indent: number): string {
  const lead = /^ */.exec(text)![0];
  if (lead !== '') {
    return wrap(text.slice(lead.length), width - lead.length, Math.max(0, indent - lead.length)).split('\n').map((l) => lead + l).join('\n');
  }
  const lines: string[] = [];
  let line = '';
  const room = (first: boolean) => Math.max(10, width - (first ? 0 : indent));
  for (const word of text.split(' ')) {
    const limit = room(lines.length === 0);
    if (line === '') line = word;
    else if (displayWidth(line) + 1 + displayWidth(word) <= limit) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
    while (displayWidth(line) > room(lines.length === 0)) {
      const chars = [...line];
      const cut = room(lines.length === 0);
      lines.push(chars.slice(0, cut).join(''));
      line = chars.slice(cut).join('');
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(indent)}${l}`)).join('\n');
}
