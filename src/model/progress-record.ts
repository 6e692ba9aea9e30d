import { checkedJson, encodeJson } from './json-codec.js';
import { valueOr, type Decoded } from './decoded.js';
import { FieldProblem, MAX_ID_LENGTH, MAX_TIME_MS, array, integer, isoTime, number, object, oneOf, string, timeMs } from './record-fields.js';
import { isoOf, msOf } from './iso-time.js';
import { sequenceOf } from '../zk/zk-paths.js';

/** How a run (or a fire that never ran) ended. */
export type RunOutcome = 'success' | 'failed' | 'timeout' | 'aborted' | 'interrupted' | 'skipped' | 'missed';
export const RUN_OUTCOMES: readonly RunOutcome[] = ['success', 'failed', 'timeout', 'aborted', 'interrupted', 'skipped', 'missed'];

/** A fire being run right now (or interrupted: still set with no run going on). */
export interface InFlightRun {
  /** ISO fire time. */
  fireTime: string;
  attempt: number;
  member: string;
  worker: string;
  /** ISO time the attempt started. */
  startedAt: string;
  /** How many runs of this fire were cut short by the loss of their owner (crash, lease loss). */
  failovers?: number;
  /** The workers whose runs of this fire were cut short, oldest first. */
  down?: string[];
  /** Released by its owner on shutdown (not cut short by a lost owner): re-run without counting a failover. */
  interrupted?: boolean;
}

/**
 * One entry of an item's run history: a finished run (any outcome), or fires that were missed or
 * skipped (`attempt` 0, `error` says how many). Plain JSON, so that a sink (a database, a log
 * shipper) can store the same record; `WorkerOptions.onRun.finished` sees every run as it ends.
 */
export interface RecentOutcome {
  fireTime: string;
  outcome: RunOutcome;
  attempt: number;
  worker: string;
  durationMs?: number;
  /** Short error message of a failed attempt. */
  error?: string;
  /** ISO time it ended. */
  at: string;
  /** ISO time the fire's run started (absent for missed/skipped entries). */
  startedAt?: string;
}

/**
 * An item's progress record (`/jobs/<job>/items/<i>`), written by whoever runs the item (its
 * owner, its run in flight in its ledger). With it a new owner knows what the last owner took on and whether it finished.
 */
export interface ProgressRecord {
  /** ISO time of the latest fire taken on (started, or deliberately skipped/missed). */
  lastScheduled?: string;
  /** Sequence number of the latest manual trigger taken on (triggers are counted apart from the schedule). */
  lastTrigger?: number;
  /** ISO time of the latest fire that finished (any outcome but interrupted). */
  lastCompleted?: string;
  inFlight?: InFlightRun | null;
  /** Outcome of the latest finished attempt. */
  outcome?: RunOutcome;
  attempt?: number;
  durationMs?: number;
  worker?: string;
  /**
   * Who wrote the record last: the sequence number of its member node (`m-<token>-<sequence>`,
   * unique in the fleet). A member ledger's entry for the item is superseded once another member
   * wrote the record after it (docs/design/run-protocol-v2.md, step 3).
   */
  by?: number;
  /**
   * The run history: the last `RECENT_OUTCOMES` outcomes, newest first. Stored in its own node
   * (`items/<i>/history`), not in the progress record, so that the write that starts a run stays
   * small: `encodeProgress` leaves it out.
   */
  recent?: RecentOutcome[];
}

/**
 * A progress record with every field named, present or not, in the order of `ProgressRecord`. The
 * records the run path makes (each begin's and release's, thousands an instant) are written as
 * such literals (`satisfies FullRecord`, so that a field added to `ProgressRecord` cannot be left
 * behind), and the decoders start from `emptyRecord()`: every record then has one hidden class, and
 * a copy of one is a plain allocation instead of V8's generic copy of an object of any shape.
 */
export type FullRecord = { [K in keyof Required<ProgressRecord>]: ProgressRecord[K] };

/** A record with nothing taken on, every field named (see {@link FullRecord}). */
export function emptyRecord(): ProgressRecord {
  return { lastScheduled: undefined, lastTrigger: undefined, lastCompleted: undefined, inFlight: undefined, outcome: undefined, attempt: undefined, durationMs: undefined, worker: undefined, by: undefined, recent: undefined } satisfies FullRecord;
}

/** How many entries an item's run history (`recent`) keeps: N in docs and `zkctl job --history`. */
export const RECENT_OUTCOMES = 10;

/*
 * Stored forms. A worker writes one progress record per item at every run's start and end, and
 * thousands of them go in one transaction (see RunLedger), so they are compact JSON: short keys,
 * times as ms since the epoch, `startedAt` as an offset from the fire time. The decoders also
 * read the long form (ISO strings, full keys) that earlier versions wrote.
 */

interface StoredInFlight {
  /** Fire time, ms. */
  t: number;
  a: number;
  m: string;
  w: string;
  /** startedAt − fire time, ms. */
  s: number;
  /** failovers, down, interrupted (only when set). */
  n?: number;
  k?: string[];
  i?: 1;
}

interface StoredProgress {
  v: 2;
  /** lastScheduled, ms. */
  s?: number;
  /** lastCompleted, ms. */
  c?: number;
  /** lastTrigger. */
  g?: number;
  f?: StoredInFlight | null;
  o?: RunOutcome;
  a?: number;
  d?: number;
  w?: string;
  /** by. */
  b?: number;
}

/** [fireTime ms, outcome, attempt, worker, at ms, durationMs | null, startedAt − fireTime | null, error?] */
type StoredOutcome = [number, RunOutcome, number, string, number, number | null, number | null, string?];

const ms = msOf;
const iso = isoOf;

/** The last member name `encodeProgress` was given, and its sequence number. */
let lastWriter = { name: '', sequence: Number.NaN };

/**
 * The progress record as stored at `items/<i>` (without the run history); `writer`, the member
 * writing it, is stored as `by` (else the record's own `by` is kept).
 */
export function encodeProgress(p: ProgressRecord, writer?: string): Buffer {
  const out: StoredProgress = { v: 2 };
  if (p.lastScheduled !== undefined) out.s = ms(p.lastScheduled);
  if (p.lastCompleted !== undefined) out.c = ms(p.lastCompleted);
  if (p.lastTrigger !== undefined) out.g = p.lastTrigger;
  if (p.inFlight) {
    const t = ms(p.inFlight.fireTime);
    const f: StoredInFlight = { t, a: p.inFlight.attempt, m: p.inFlight.member, w: p.inFlight.worker, s: ms(p.inFlight.startedAt) - t };
    if (p.inFlight.failovers) f.n = p.inFlight.failovers;
    if (p.inFlight.down?.length) f.k = p.inFlight.down;
    if (p.inFlight.interrupted) f.i = 1;
    out.f = f;
  } else if (p.inFlight === null) out.f = null;
  if (p.outcome !== undefined) out.o = p.outcome;
  if (p.attempt !== undefined) out.a = p.attempt;
  if (p.durationMs !== undefined) out.d = p.durationMs;
  if (p.worker !== undefined) out.w = p.worker;
  if (writer !== undefined && writer !== lastWriter.name) lastWriter = { name: writer, sequence: sequenceOf(writer) };
  const by = writer !== undefined ? lastWriter.sequence : p.by;
  if (by !== undefined && Number.isInteger(by)) out.b = by;
  return encodeJson(out);
}

/** Largest member sequence number (ZooKeeper's sequential suffix is a signed 32-bit counter). */
const MAX_SEQUENCE = 2 ** 31 - 1;

/** Largest attempt number (retries and failover re-runs of one fire) a record may hold. */
const MAX_ATTEMPT = 1_000_000;
/** Longest error text of a history entry (run errors are cut to 500 characters when written). */
const MAX_ERROR_TEXT = 10_000;
const MAX_DURATION_MS = MAX_TIME_MS;

/**
 * Reads an item's progress record, in the compact or the long form. No data (a new item node)
 * decodes to `{}`: nothing was ever taken on. Malformed data is not `{}`: an item whose progress
 * cannot be read must not be run (its last fire and whether a run is in flight are unknown).
 */
export function readProgress(data: Buffer | undefined, path: string): Decoded<ProgressRecord> {
  const d = checkedJson(data, path, (raw): ProgressRecord => {
    const o = object(raw, 'progress');
    return o.v === undefined ? longProgress(o) : compactProgress(o);
  });
  return d.ok ? { ok: true, value: d.value ?? emptyRecord() } : d;
}

function compactProgress(o: Record<string, unknown>): ProgressRecord {
  if (o.v !== 2) throw new FieldProblem(`v must be 2 (got ${JSON.stringify(o.v)})`);
  const p = emptyRecord();
  if (o.s !== undefined) p.lastScheduled = iso(timeMs(o.s, 's'));
  if (o.c !== undefined) p.lastCompleted = iso(timeMs(o.c, 'c'));
  if (o.g !== undefined) p.lastTrigger = integer(o.g, 'g', 0, Number.MAX_SAFE_INTEGER);
  if (o.f === null) p.inFlight = null;
  else if (o.f !== undefined) {
    const f = object(o.f, 'f');
    const t = timeMs(f.t, 'f.t');
    const started = t + integer(f.s, 'f.s', -t, MAX_TIME_MS - t);
    p.inFlight = { fireTime: iso(t), attempt: integer(f.a, 'f.a', 0, MAX_ATTEMPT), member: string(f.m, 'f.m', MAX_ID_LENGTH), worker: string(f.w, 'f.w', MAX_ID_LENGTH), startedAt: iso(started) };
    if (f.n !== undefined) p.inFlight.failovers = integer(f.n, 'f.n', 0, MAX_ATTEMPT);
    if (f.k !== undefined) p.inFlight.down = array(f.k, 'f.k', MAX_ATTEMPT).map((w, i) => string(w, `f.k[${i}]`, MAX_ID_LENGTH));
    if (f.i !== undefined) {
      if (f.i !== 1) throw new FieldProblem(`f.i must be 1 when present (got ${JSON.stringify(f.i)})`);
      p.inFlight.interrupted = true;
    }
  }
  if (o.o !== undefined) p.outcome = oneOf(o.o, 'o', RUN_OUTCOMES);
  if (o.a !== undefined) p.attempt = integer(o.a, 'a', 0, MAX_ATTEMPT);
  if (o.d !== undefined) p.durationMs = number(o.d, 'd', 0, MAX_DURATION_MS);
  if (o.w !== undefined) p.worker = string(o.w, 'w', MAX_ID_LENGTH);
  if (o.b !== undefined) p.by = integer(o.b, 'b', 0, MAX_SEQUENCE);
  return p;
}

function longProgress(o: Record<string, unknown>): ProgressRecord {
  const p = emptyRecord();
  if (o.lastScheduled !== undefined) p.lastScheduled = isoTime(o.lastScheduled, 'lastScheduled');
  if (o.lastCompleted !== undefined) p.lastCompleted = isoTime(o.lastCompleted, 'lastCompleted');
  if (o.inFlight === null) p.inFlight = null;
  else if (o.inFlight !== undefined) {
    const f = object(o.inFlight, 'inFlight');
    p.inFlight = {
      fireTime: isoTime(f.fireTime, 'inFlight.fireTime'), attempt: integer(f.attempt, 'inFlight.attempt', 0, MAX_ATTEMPT),
      member: string(f.member, 'inFlight.member', MAX_ID_LENGTH), worker: string(f.worker, 'inFlight.worker', MAX_ID_LENGTH),
      startedAt: isoTime(f.startedAt, 'inFlight.startedAt'),
    };
  }
  if (o.outcome !== undefined) p.outcome = oneOf(o.outcome, 'outcome', RUN_OUTCOMES);
  if (o.attempt !== undefined) p.attempt = integer(o.attempt, 'attempt', 0, MAX_ATTEMPT);
  if (o.durationMs !== undefined) p.durationMs = number(o.durationMs, 'durationMs', 0, MAX_DURATION_MS);
  if (o.worker !== undefined) p.worker = string(o.worker, 'worker', MAX_ID_LENGTH);
  return p;
}

/** {@link readProgress} without the reason: `{}` for malformed data (do not decide to run on it). */
export function decodeProgress(data: Buffer | undefined): ProgressRecord {
  return valueOr(readProgress(data, '/jobs/?/items/?'), {});
}

/** The run history as stored at `items/<i>/history`. */
export function encodeHistory(recent: readonly RecentOutcome[]): Buffer {
  const r = recent.map((o): StoredOutcome => {
    const fire = ms(o.fireTime);
    const entry: StoredOutcome = [fire, o.outcome, o.attempt, o.worker, ms(o.at), o.durationMs ?? null, o.startedAt === undefined ? null : ms(o.startedAt) - fire];
    if (o.error !== undefined) entry.push(o.error);
    return entry;
  });
  return encodeJson({ v: 2, r });
}

/**
 * Reads an item's run history, in the compact or the long form: at most `RECENT_OUTCOMES` entries,
 * every field checked. No data decodes to `[]`.
 */
export function readHistory(data: Buffer | undefined, path: string): Decoded<RecentOutcome[]> {
  const d = checkedJson(data, path, (raw): RecentOutcome[] => {
    const h = object(raw, 'history');
    if (h.v === undefined) return array(h.recent, 'recent', RECENT_OUTCOMES).map((e, i) => longOutcome(object(e, `recent[${i}]`), `recent[${i}]`));
    if (h.v !== 2) throw new FieldProblem(`v must be 2 (got ${JSON.stringify(h.v)})`);
    return array(h.r, 'r', RECENT_OUTCOMES).map((e, i) => compactOutcome(array(e, `r[${i}]`, 8), `r[${i}]`));
  });
  return d.ok ? { ok: true, value: d.value ?? [] } : d;
}

function compactOutcome([fire, outcome, attempt, worker, at, durationMs, started, error]: unknown[], key: string): RecentOutcome {
  const t = timeMs(fire, `${key}[0]`);
  const o: RecentOutcome = { fireTime: iso(t), outcome: oneOf(outcome, `${key}[1]`, RUN_OUTCOMES), attempt: integer(attempt, `${key}[2]`, 0, MAX_ATTEMPT), worker: string(worker, `${key}[3]`, MAX_ID_LENGTH), at: iso(timeMs(at, `${key}[4]`)) };
  if (durationMs !== null) o.durationMs = number(durationMs, `${key}[5]`, 0, MAX_DURATION_MS);
  if (started !== null) o.startedAt = iso(t + integer(started, `${key}[6]`, -t, MAX_TIME_MS - t));
  if (error !== undefined) o.error = string(error, `${key}[7]`, MAX_ERROR_TEXT);
  return o;
}

function longOutcome(e: Record<string, unknown>, key: string): RecentOutcome {
  const o: RecentOutcome = {
    fireTime: isoTime(e.fireTime, `${key}.fireTime`), outcome: oneOf(e.outcome, `${key}.outcome`, RUN_OUTCOMES),
    attempt: integer(e.attempt, `${key}.attempt`, 0, MAX_ATTEMPT), worker: string(e.worker, `${key}.worker`, MAX_ID_LENGTH), at: isoTime(e.at, `${key}.at`),
  };
  if (e.durationMs !== undefined) o.durationMs = number(e.durationMs, `${key}.durationMs`, 0, MAX_DURATION_MS);
  if (e.error !== undefined) o.error = string(e.error, `${key}.error`, MAX_ERROR_TEXT);
  if (e.startedAt !== undefined) o.startedAt = isoTime(e.startedAt, `${key}.startedAt`);
  return o;
}

/** {@link readHistory} without the reason: `[]` for malformed data. */
export function decodeHistory(data: Buffer | undefined): RecentOutcome[] {
  return valueOr(readHistory(data, '/jobs/?/items/?/history'), []);
}

/** Adds an outcome to the front of a history, keeping it bounded. */
export function withOutcome(recent: readonly RecentOutcome[] | undefined, o: RecentOutcome): RecentOutcome[] {
  const kept = Math.min(recent?.length ?? 0, RECENT_OUTCOMES - 1);
  const out = new Array<RecentOutcome>(kept + 1);
  out[0] = o;
  for (let i = 0; i < kept; i++) out[i + 1] = recent![i]!;
  return out;
}
