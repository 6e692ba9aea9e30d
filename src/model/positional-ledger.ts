import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, MAX_SHARDS } from '../config/job-definition.js';
import { checkedJson } from './json-codec.js';
import { malformed, type Decoded } from './decoded.js';
import { FieldProblem, array, integer, object, string, timeMs } from './record-fields.js';
import { bitmapOf, itemsOf, readLedgerPart, type LedgerEntry, type LedgerFlight, type LedgerPart } from './member-ledger.js';

/*
 * The positional form of a member's ledger part (run protocol v2, step 5:
 * docs/design/run-protocol-v2.md). A part written at every instant names no job: its bits are
 * positions in the part's **index** (the node `index` below the part), which lists the items the
 * part speaks of, job by job, and changes only when that set does (with the member's
 * assignments, not with its fires). So a steady write of a part costs about two bits per item it
 * holds instead of ~50 bytes per job.
 *
 *   index: `{ v: 2, j: [[<job>, <items as hex bitmap>], ...] }` — positions in order, a job's
 *          items ascending (a job may appear in several entries: items added later are appended).
 *   part:  `{ v: 2, iv: <the index's data version>, c: [[instant, positions], ...],
 *          f: [[fire, attempt, positions, token?], ...] }` — `c`: each position's claim (the
 *          instant it was last begun at); `f`: the runs in flight, grouped as in the first form.
 *
 * The member writes the index in the multi that writes the part with the new `iv`, so a part and
 * an index read one after the other belong together exactly when the index's version is the
 * part's `iv` (otherwise read both again: `membership/read-ledger-node.ts`). A part in the first
 * form (`v: 1`, self-contained: an operator's removal writes one) is read as before.
 */

/** The items a part's positions stand for, in order. */
export interface LedgerIndex {
  jobs: string[];
  items: number[];
}

/** Positions a part may have (far more than a ZooKeeper node of positions can hold). */
export const MAX_POSITIONS = 4_000_000;
const MAX_INDEX_ENTRIES = 1_000_000;
const HEX = /^(?:[0-9a-f]{2})*$/;
const ZXID = /^[1-9][0-9]{0,18}$/;
/** Groups of claims or of runs in flight in one part. */
const MAX_GROUPS = 100_000;

/** Encodes an index: consecutive positions of one job share an entry. */
export function encodeLedgerIndex(index: LedgerIndex): Buffer {
  let out = '{"v":2,"j":[';
  let sep = '';
  for (let p = 0; p < index.jobs.length; ) {
    const job = index.jobs[p]!;
    const items: number[] = [];
    // One entry while the job's items keep ascending.
    for (; p < index.jobs.length && index.jobs[p] === job && index.items[p]! > (items.at(-1) ?? -1); p++) items.push(index.items[p]!);
    out += `${sep}["${job}","${bitmapOf(items)}"]`;
    sep = ',';
  }
  return Buffer.from(`${out}]}`, 'utf8');
}

/** Reads an index node (no data: no positions). */
export function readLedgerIndex(data: Buffer | undefined, path: string): Decoded<LedgerIndex> {
  const read = checkedJson(data, path, (raw): LedgerIndex => {
    const o = object(raw, 'index');
    if (o.v !== 2) throw new FieldProblem(`v must be 2 (got ${JSON.stringify(o.v)})`);
    const index: LedgerIndex = { jobs: [], items: [] };
    const seen = new Set<string>();
    array(o.j, 'j', MAX_INDEX_ENTRIES).forEach((e, k) => {
      const [job, items, ...rest] = array(e, `j[${k}]`, 2);
      if (rest.length > 0 || items === undefined) throw new FieldProblem(`j[${k}] must be [job, items]`);
      const name = string(job, `j[${k}][0]`, MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN);
      for (const item of itemsOf(string(items, `j[${k}][1]`, Math.ceil(MAX_SHARDS / 8) * 2, HEX))) {
        const key = `${name}/${item}`;
        if (seen.has(key)) throw new FieldProblem(`j[${k}]: item ${item} of ${name} has two positions`);
        seen.add(key);
        index.jobs.push(name);
        index.items.push(item);
      }
      if (index.jobs.length > MAX_POSITIONS) throw new FieldProblem(`more than ${MAX_POSITIONS} positions`);
    });
    return index;
  });
  return read.ok && read.value === undefined ? { ok: true, value: { jobs: [], items: [] } } : (read as Decoded<LedgerIndex>);
}

const POSITIONAL = /^\{"v":2,"iv":(\d{1,10})[,}]/;

/**
 * The index version a part in the positional form is written against (read from its first
 * bytes, as zkshard writes them); undefined for a part in the first form, no data, or data that
 * is neither (then the part reads as malformed).
 */
export function indexVersionOf(data: Buffer | undefined): number | undefined {
  if (!data || data.length < 12) return undefined;
  const m = POSITIONAL.exec(data.subarray(0, 24).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** An index read beside a part: its data version and what it holds. */
export interface IndexRead {
  version: number;
  index: Decoded<LedgerIndex>;
}

/**
 * Reads a ledger part in either form; a positional one needs the index read with it (`index`,
 * whose version must be the part's `iv`: a mismatch is reported as malformed, so callers read
 * both again first: `membership/read-ledger-node.ts`).
 */
export function readLedgerNode(data: Buffer | undefined, path: string, index?: IndexRead): Decoded<LedgerPart> {
  const iv = indexVersionOf(data);
  if (iv === undefined) {
    // The first form, or something else: `readLedgerPart` says what is wrong with it.
    return readLedgerPart(data, path);
  }
  if (!index) return malformed(path, `written against index version ${iv}, and no index was read with it`);
  if (index.version !== iv) return malformed(path, `written against index version ${iv}, read with version ${index.version}`);
  if (!index.index.ok) return malformed(path, `its index is malformed: ${index.index.error.message}`, index.index.error);
  const positions = index.index.value;
  const read = checkedJson(data, path, (raw): LedgerPart => decodePositional(object(raw, 'ledger'), positions));
  return read.ok && read.value === undefined ? { ok: true, value: new Map() } : (read as Decoded<LedgerPart>);
}

function positionsOf(v: unknown, key: string, count: number): number[] {
  const hex = string(v, key, Math.ceil(count / 8) * 2, HEX);
  const out = itemsOf(hex);
  if (out.length > 0 && out[out.length - 1]! >= count) throw new FieldProblem(`${key}: position ${out[out.length - 1]} is past the index's ${count}`);
  return out;
}

function decodePositional(o: Record<string, unknown>, index: LedgerIndex): LedgerPart {
  const count = index.jobs.length;
  const claims = new Map<number, number>();
  if (o.c !== undefined) {
    array(o.c, 'c', MAX_GROUPS).forEach((g, k) => {
      const [t, bits, ...rest] = array(g, `c[${k}]`, 2);
      if (rest.length > 0 || bits === undefined) throw new FieldProblem(`c[${k}] must be [instant, positions]`);
      const ms = timeMs(t, `c[${k}][0]`);
      for (const p of positionsOf(bits, `c[${k}][1]`, count)) {
        if (claims.has(p)) throw new FieldProblem(`c[${k}]: position ${p} is claimed twice`);
        claims.set(p, ms);
      }
    });
  }
  const part: LedgerPart = new Map();
  const entryAt = (p: number): LedgerEntry => {
    const job = index.jobs[p]!;
    let e = part.get(job);
    if (!e) part.set(job, (e = { b: new Set(), f: new Map() }));
    return e;
  };
  // Claims per job: the latest instant is `t` with its items, the others older claims.
  const byJob = new Map<string, Array<[number, number]>>();
  for (const [p, ms] of claims) {
    const job = index.jobs[p]!;
    let list = byJob.get(job);
    if (!list) byJob.set(job, (list = []));
    list.push([index.items[p]!, ms]);
    entryAt(p);
  }
  for (const [job, list] of byJob) {
    const e = part.get(job)!;
    let t = Number.NEGATIVE_INFINITY;
    for (const [, ms] of list) if (ms > t) t = ms;
    e.t = t;
    for (const [item, ms] of list) {
      if (ms === t) e.b.add(item);
      else (e.o ??= new Map()).set(item, ms);
    }
  }
  if (o.f !== undefined) {
    array(o.f, 'f', MAX_GROUPS).forEach((g, k) => {
      const at = `f[${k}]`;
      const [fire, attempt, bits, token, ...rest] = array(g, at, 4);
      if (rest.length > 0 || bits === undefined) throw new FieldProblem(`${at} must be [fire, attempt, positions, token?]`);
      const flight: LedgerFlight = { fireMs: timeMs(fire, `${at}[0]`), attempt: integer(attempt, `${at}[1]`, 0, 1_000_000) };
      if (token !== undefined) flight.token = BigInt(string(token, `${at}[3]`, 20, ZXID));
      for (const p of positionsOf(bits, `${at}[2]`, count)) {
        const e = entryAt(p);
        const item = index.items[p]!;
        if (e.f.has(item)) throw new FieldProblem(`${at}: item ${item} of ${index.jobs[p]} is in flight twice`);
        e.f.set(item, flight);
      }
    });
  }
  return part;
}

/**
 * What a part in the positional form holds, counted without its index (for summaries): the
 * positions claimed and the runs in flight. Undefined when it is not one that reads.
 */
export function countPositional(data: Buffer | undefined, path: string): Decoded<{ indexVersion: number; claimed: number; inFlight: number }> {
  const iv = indexVersionOf(data);
  if (iv === undefined) return malformed(path, 'not a ledger part in the positional form');
  const read = checkedJson(data, path, (raw) => {
    const o = object(raw, 'ledger');
    const bits = (groups: unknown, key: string, at: number): number =>
      array(groups ?? [], key, MAX_GROUPS).reduce<number>((sum, g, k) => sum + itemsOf(string(array(g, `${key}[${k}]`, 4)[at], `${key}[${k}][${at}]`, MAX_POSITIONS / 4, HEX)).length, 0);
    return { indexVersion: iv, claimed: bits(o.c, 'c', 1), inFlight: bits(o.f, 'f', 2) };
  });
  return read.ok ? { ok: true, value: read.value ?? { indexVersion: iv, claimed: 0, inFlight: 0 } } : read;
}
