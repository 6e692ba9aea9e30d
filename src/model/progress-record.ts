import { decodeJson, encodeJson } from './json-codec.js';

/** How a run (or a fire that never ran) ended. */
export type RunOutcome = 'success' | 'failed' | 'timeout' | 'aborted' | 'interrupted' | 'skipped' | 'missed';

/** A fire being run right now (or interrupted: still set with no running marker). */
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
 * An item's progress record (`/jobs/<job>/items/<i>`), written by whoever holds the item's running
 * marker. With it a new owner knows what the last owner took on and whether it finished.
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
   * The run history: the last `RECENT_OUTCOMES` outcomes, newest first. Stored in its own node
   * (`items/<i>/history`), not in the progress record, so that the write that starts a run stays
   * small: `encodeProgress` leaves it out.
   */
  recent?: RecentOutcome[];
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
}

/** [fireTime ms, outcome, attempt, worker, at ms, durationMs | null, startedAt − fireTime | null, error?] */
type StoredOutcome = [number, RunOutcome, number, string, number, number | null, number | null, string?];

const ms = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** The progress record as stored at `items/<i>` (without the run history). */
export function encodeProgress(p: ProgressRecord): Buffer {
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
  return encodeJson(out);
}

export function decodeProgress(data: Buffer | undefined): ProgressRecord {
  const raw = decodeJson<StoredProgress | (ProgressRecord & { v?: undefined })>(data);
  if (!raw || typeof raw !== 'object') return {};
  if (raw.v !== 2) {
    const { recent: _history, ...long } = raw as ProgressRecord;
    return long;
  }
  const p: ProgressRecord = {};
  if (typeof raw.s === 'number') p.lastScheduled = iso(raw.s);
  if (typeof raw.c === 'number') p.lastCompleted = iso(raw.c);
  if (typeof raw.g === 'number') p.lastTrigger = raw.g;
  if (raw.f === null) p.inFlight = null;
  else if (raw.f) {
    p.inFlight = { fireTime: iso(raw.f.t), attempt: raw.f.a, member: raw.f.m, worker: raw.f.w, startedAt: iso(raw.f.t + raw.f.s) };
    if (typeof raw.f.n === 'number') p.inFlight.failovers = raw.f.n;
    if (Array.isArray(raw.f.k)) p.inFlight.down = raw.f.k.filter((w): w is string => typeof w === 'string');
    if (raw.f.i === 1) p.inFlight.interrupted = true;
  }
  if (raw.o !== undefined) p.outcome = raw.o;
  if (raw.a !== undefined) p.attempt = raw.a;
  if (raw.d !== undefined) p.durationMs = raw.d;
  if (raw.w !== undefined) p.worker = raw.w;
  return p;
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

export function decodeHistory(data: Buffer | undefined): RecentOutcome[] {
  const h = decodeJson<{ v?: number; r?: StoredOutcome[]; recent?: RecentOutcome[] }>(data);
  if (h?.v === 2 && Array.isArray(h.r)) {
    return h.r.map(([fire, outcome, attempt, worker, at, durationMs, started, error]) => {
      const o: RecentOutcome = { fireTime: iso(fire), outcome, attempt, worker, at: iso(at) };
      if (durationMs !== null) o.durationMs = durationMs;
      if (started !== null) o.startedAt = iso(fire + started);
      if (error !== undefined) o.error = error;
      return o;
    });
  }
  return Array.isArray(h?.recent) ? h.recent : [];
}

/** Adds an outcome to the front of a history, keeping it bounded. */
export function withOutcome(recent: readonly RecentOutcome[] | undefined, o: RecentOutcome): RecentOutcome[] {
  return [o, ...(recent ?? [])].slice(0, RECENT_OUTCOMES);
}
