/**
 * ISO-8601 times of the run records, converted often: every begin and release of an instant's
 * thousands of runs formats the same few instants (its fire time, the batch's clock reading) and
 * parses them back when encoding. `Date#toISOString` and `Date.parse` were about a tenth of a
 * firing worker's CPU (issue 16's profile of 1,000 jobs × 8 items); the answers are the same as
 * theirs, remembered for the last few distinct values.
 */

const SLOTS = 64; // a power of two
const isoMs = new Float64Array(SLOTS).fill(Number.NaN);
const isoText: string[] = new Array<string>(SLOTS).fill('');
/** Parsed texts (mostly the very strings `isoOf` handed out, whose hash is kept), forgotten in bulk. */
const parsed = new Map<string, number>();
const PARSED_MAX = 256;

/** `new Date(ms).toISOString()` (throws the same RangeError for an invalid time). */
export function isoOf(ms: number): string {
  const slot = (ms % SLOTS + SLOTS) & (SLOTS - 1);
  if (isoMs[slot] === ms) return isoText[slot]!;
  const text = new Date(ms).toISOString();
  isoMs[slot] = ms;
  isoText[slot] = text;
  return text;
}

/** `isoOf(date.getTime())`. */
export function isoOfDate(date: Date): string {
  return isoOf(date.getTime());
}

/** `Date.parse(text)`. */
export function msOf(text: string): number {
  const known = parsed.get(text);
  if (known !== undefined) return known;
  const ms = Date.parse(text);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(text, ms);
  return ms;
}

/** The later of two ISO times (`a` may be absent). */
export function maxIso(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}
