import { JOB_NAME_PATTERN, MAX_JOB_NAME_LENGTH, MAX_SHARDS } from '../config/job-definition.js';
import { jobHash } from './job-hash.js';
import { checkedJson, encodeJson } from './json-codec.js';
import type { Decoded } from './decoded.js';
import { FieldProblem, array, integer, object, string, timeMs } from './record-fields.js';

/*
 * A member's ledger (run protocol v2, docs/design/run-protocol-v2.md): what the member began and
 * has in flight, per job, kept in `/ledgers/<member>/<part>` nodes (a job's part is
 * `ledgerPartOf(job)`). Written only by its member, in the multis that begin and release its runs.
 */

/** A run in flight: the fire it runs and the attempt it began with. */
export interface LedgerFlight {
  fireMs: number;
  attempt: number;
  /**
   * Its fencing token: the zxid of the multi that began it. Unset when that multi is the part's
   * last write (the writer learns the zxid from the write's answer and stores it with the next
   * one): the token is then the part's mzxid (`tokenOf`).
   */
  token?: bigint;
}

/** A run's fencing token, from its flight and the mzxid of the part it was read from. */
export function tokenOf(flight: LedgerFlight, partMzxid: bigint): bigint {
  return flight.token ?? partMzxid;
}

/**
 * The part with every run's token set (from `partMzxid`, the part's mzxid as read): to be written
 * by someone else than its member (an operator's removal), whose write moves the part's mzxid.
 */
export function withTokens(part: LedgerPart, partMzxid: bigint): LedgerPart {
  for (const e of part.values()) {
    for (const [item, flight] of e.f) if (flight.token === undefined) e.f.set(item, { ...flight, token: partMzxid });
  }
  return part;
}

/** One job's entry in a member's ledger. */
export interface LedgerEntry {
  /** The latest instant (fire time, ms) the member began items of the job at. */
  t?: number;
  /** The items begun at `t`. */
  b: Set<number>;
  /**
   * Older claims: items the member began last at an instant before `t` (not begun at `t`: an
   * overlap skip, a late begin, an item that left), with that instant. A claim is the item's
   * frontier while the entry is current (run protocol v2, step 4c: begins write no record).
   */
  o?: Map<number, number>;
  /** The items in flight now, each with its fire and first attempt. */
  f: Map<number, LedgerFlight>;
}

/** One ledger node: job → entry. */
export type LedgerPart = Map<string, LedgerEntry>;

/** Largest bitmap: one bit per item of a job of MAX_SHARDS items, as hex. */
const MAX_BITMAP_HEX = Math.ceil(MAX_SHARDS / 8) * 2;
const HEX = /^(?:[0-9a-f]{2})*$/;
/** A zxid in decimal (a positive 64-bit number). */
const ZXID = /^[1-9][0-9]{0,18}$/;
/** A ledger node holds at most this many jobs (far more than a part ever has). */
const MAX_ENTRIES = 100_000;
/** Distinct (fire, attempt) groups of one job in flight at once. */
const MAX_FLIGHT_GROUPS = MAX_SHARDS;

/** Ledger nodes per member (every member the same): a multi rewrites only the parts of the jobs it touches. */
export const LEDGER_PARTS = 32;

/** Which of `parts` ledger nodes holds `job` (FNV-1a of its name). */
export function ledgerPartOf(job: string, parts: number): number {
  return jobHash(job) % parts;
}

/** Two hex digits of every byte value. */
export const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Items as a bitmap in hex: item i is bit `i % 8` of byte `i / 8`. */
export function bitmapOf(items: Iterable<number>): string {
  const bytes: number[] = [];
  for (const i of items) {
    const k = i >> 3;
    while (bytes.length <= k) bytes.push(0);
    bytes[k]! |= 1 << (i & 7);
  }
  let hex = '';
  for (const b of bytes) hex += HEX_BYTES[b]!;
  return hex;
}

/** The items of a hex bitmap, ascending. */
export function itemsOf(hex: string): number[] {
  const out: number[] = [];
  for (let k = 0; k < hex.length; k += 2) {
    const byte = parseInt(hex.slice(k, k + 2), 16);
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(k * 4 + bit);
  }
  return out;
}

/**
 * Stored as `{ v: 1, j: { <job>: { t?: ms, b?: hex, o?: [[ms, hex], ...], f?: [[fire ms, attempt, hex, token?], ...] } } }`:
 * the runs in flight grouped by fire, attempt and token (one group per job in the steady state;
 * the token, a zxid in decimal, is left out while the part's last write is the one that began the
 * group's runs).
 */
export function encodeLedgerPart(part: LedgerPart): Buffer {
  // Written out by hand rather than through objects and JSON.stringify: a worker writes every job
  // it runs twice an instant. Job names match JOB_NAME_PATTERN: nothing in them needs escaping.
  let out = '{"v":1,"j":{';
  let firstJob = true;
  for (const [job, e] of part) {
    out += `${firstJob ? '' : ','}"${job}":{`;
    firstJob = false;
    let sep = '';
    if (e.t !== undefined && e.b.size > 0) {
      out += `"t":${e.t},"b":"${bitmapOf(e.b.keys())}"`;
      sep = ',';
    }
    if (e.o?.size) {
      out += `${sep}"o":[${claimGroups(e.o)}]`;
      sep = ',';
    }
    if (e.f.size > 0) out += `${sep}"f":[${flightGroups(e.f)}]`;
    out += '}';
  }
  return Buffer.from(`${out}}}`, 'utf8');
}

/** The runs in flight as `[fire, attempt, bitmap, token?]` groups (one in the steady state), comma-separated. */
export function flightGroups(f: ReadonlyMap<number, LedgerFlight>): string {
  let one: LedgerFlight | undefined;
  for (const flight of f.values()) {
    if (one && !sameGroup(flight, one)) {
      one = undefined;
      break;
    }
    one ??= flight;
  }
  if (one) return flightGroup(one, bitmapOf(f.keys()));
  const groups = new Map<string, { flight: LedgerFlight; items: number[] }>();
  for (const [item, flight] of f) {
    const k = `${flight.fireMs}/${flight.attempt}/${flight.token ?? ''}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { flight, items: [] }));
    g.items.push(item);
  }
  return [...groups.values()].map((g) => flightGroup(g.flight, bitmapOf(g.items))).join(',');
}

/** Older claims as `[instant, bitmap]` groups, oldest first, comma-separated. */
export function claimGroups(o: ReadonlyMap<number, number>): string {
  const byT = new Map<number, number[]>();
  for (const [item, t] of o) {
    let items = byT.get(t);
    if (!items) byT.set(t, (items = []));
    items.push(item);
  }
  return [...byT.entries()].sort((a, b) => a[0] - b[0]).map(([t, items]) => `[${t},"${bitmapOf(items)}"]`).join(',');
}

/** The claim an entry has of an item: the instant it was begun at last, if the entry says. */
export function claimOf(e: LedgerEntry, item: number): number | undefined {
  return e.t !== undefined && e.b.has(item) ? e.t : e.o?.get(item);
}

/** One group of runs in flight, as stored. */
export function flightGroup(flight: LedgerFlight, hex: string): string {
  return flight.token === undefined ? `[${flight.fireMs},${flight.attempt},"${hex}"]` : `[${flight.fireMs},${flight.attempt},"${hex}","${flight.token}"]`;
}

function sameGroup(a: LedgerFlight, b: LedgerFlight): boolean {
  return a.fireMs === b.fireMs && a.attempt === b.attempt && a.token === b.token;
}

/** Every item an entry names: claimed or in flight. */
export function entryItems(e: LedgerEntry): Set<number> {
  return new Set([...e.b, ...(e.o?.keys() ?? []), ...e.f.keys()]);
}

function bitmap(v: unknown, key: string): number[] {
  const hex = string(v, key, MAX_BITMAP_HEX, HEX);
  return itemsOf(hex);
}

/** Reads a ledger node; no data is an empty ledger. */
export function readLedgerPart(data: Buffer | undefined, path: string): Decoded<LedgerPart> {
  const read = checkedJson(data, path, (raw): LedgerPart => {
    const o = object(raw, 'ledger');
    if (o.v !== 1) throw new FieldProblem(`v must be 1 (got ${JSON.stringify(o.v)})`);
    const jobs = object(o.j, 'j');
    const names = Object.keys(jobs);
    if (names.length > MAX_ENTRIES) throw new FieldProblem(`j must have at most ${MAX_ENTRIES} jobs (has ${names.length})`);
    const part: LedgerPart = new Map();
    for (const job of names) {
      string(job, `j key`, MAX_JOB_NAME_LENGTH, JOB_NAME_PATTERN);
      const e = object(jobs[job], `j.${job}`);
      const entry: LedgerEntry = { b: new Set(), f: new Map() };
      if (e.t !== undefined) {
        entry.t = timeMs(e.t, `j.${job}.t`);
        entry.b = new Set(bitmap(e.b, `j.${job}.b`));
      } else if (e.b !== undefined) throw new FieldProblem(`j.${job}.b (items begun) needs t (when they were begun)`);
      if (e.o !== undefined) {
        const o = new Map<number, number>();
        array(e.o, `j.${job}.o`, MAX_FLIGHT_GROUPS).forEach((g, k) => {
          const at = `j.${job}.o[${k}]`;
          const [t, items, ...rest] = array(g, at, 2);
          if (rest.length > 0 || items === undefined) throw new FieldProblem(`${at} must be [instant, items]`);
          const ms = timeMs(t, `${at}[0]`);
          for (const i of bitmap(items, `${at}[1]`)) {
            if (o.has(i) || entry.b.has(i)) throw new FieldProblem(`${at}: item ${i} is claimed twice`);
            o.set(i, ms);
          }
        });
        if (o.size > 0) entry.o = o;
      }
      if (e.f !== undefined) {
        array(e.f, `j.${job}.f`, MAX_FLIGHT_GROUPS).forEach((g, k) => {
          const at = `j.${job}.f[${k}]`;
          const [fire, attempt, items, token, ...rest] = array(g, at, 4);
          if (rest.length > 0 || items === undefined) throw new FieldProblem(`${at} must be [fire, attempt, items, token?]`);
          const flight: LedgerFlight = { fireMs: timeMs(fire, `${at}[0]`), attempt: integer(attempt, `${at}[1]`, 0, 1_000_000) };
          if (token !== undefined) flight.token = BigInt(string(token, `${at}[3]`, 20, ZXID));
          for (const i of bitmap(items, `${at}[2]`)) {
            if (entry.f.has(i)) throw new FieldProblem(`${at}: item ${i} is in flight twice`);
            entry.f.set(i, flight);
          }
        });
      }
      part.set(job, entry);
    }
    return part;
  });
  return read.ok && read.value === undefined ? { ok: true, value: new Map() } : (read as Decoded<LedgerPart>);
}
