import type { FaultEvent, RunEvent, StoreWrite } from '../chaos-records.js';

/**
 * How a run's interval ended: the terminal RunEvent it logged, or, when it logged none, why the
 * checker chose the end it did.
 */
export type RunEnding =
  /** Logged `end`, `aborted` or `failed`. */
  | 'end' | 'aborted' | 'failed'
  /** No terminal event; its process was SIGKILLed: ends when the kill was sent. */
  | 'killed'
  /**
   * No terminal event; its process was SIGTERMed (a drained SIGTERM finishes or aborts its runs,
   * so this is suspicious): ends at the last event that process logged.
   */
  | 'terminated'
  /** No terminal event and no kill: still running when the records end; ends there. */
  | 'open';

/** One run (one attempt of one fire of one item, in one process) as a time interval. */
export interface RunInterval {
  job: string;
  item: number;
  /** ISO fire time, as the run logged it. */
  fire: string;
  attempt: number;
  pid: number;
  worker: string;
  /** Fencing token of the run (from its `start` event). */
  token: string;
  /** ms since the epoch: the `start` event. */
  start: number;
  /** ms since the epoch: the terminal event, or the inferred end (see `ending`). */
  end: number;
  ending: RunEnding;
  /** For `aborted`: the reason code it logged. */
  reason?: string;
}

export interface RunIntervals {
  /** Every run that logged a `start`, in start order. */
  intervals: RunInterval[];
  /** Terminal events with no `start` before them for the same run (lost log lines?). */
  orphanEnds: RunEvent[];
  /** The latest instant in the records (runs, writes, faults); -Infinity when there are none. */
  dataEnd: number;
}

/**
 * The identity of one run: job, item, fire, attempt and pid. Fire times are compared as instants
 * (so two spellings of one ISO instant match).
 */
export function runKey(r: { job: string; item: number; fire: string; attempt: number; pid: number }): string {
  return JSON.stringify([r.job, r.item, fireId(r.fire), r.attempt, r.pid]);
}

/** A fire time as its instant in ms when it parses, else the string itself. */
export function fireId(fire: string): number | string {
  const ms = Date.parse(fire);
  return Number.isFinite(ms) ? ms : fire;
}

/**
 * Builds run intervals from the run log: each `start` is paired with the next `end`, `aborted` or
 * `failed` of the same job, item, fire, attempt and pid. A start never closed ends
 * - at the `start` of the first SIGKILL of its pid sent at or after it (`killed`);
 * - else, if its pid was SIGTERMed, at the last RunEvent or StoreWrite of that pid (`terminated`);
 * - else at the end of the data (`open`).
 * Pure: no I/O, no clock.
 */
export function buildRunIntervals(
  runs: readonly RunEvent[],
  writes: readonly StoreWrite[],
  faults: readonly FaultEvent[],
): RunIntervals {
  let dataEnd = -Infinity;
  const lastByPid = new Map<number, number>();
  const seen = (pid: number, at: number): void => {
    dataEnd = Math.max(dataEnd, at);
    lastByPid.set(pid, Math.max(lastByPid.get(pid) ?? -Infinity, at));
  };
  for (const r of runs) seen(r.pid, r.at);
  for (const w of writes) seen(w.pid, w.at);
  for (const f of faults) dataEnd = Math.max(dataEnd, f.start, f.end);

  const kills = new Map<number, number[]>();
  const terminated = new Set<number>();
  for (const f of faults) {
    if (f.pid === undefined) continue;
    if (f.fault === 'sigkill') kills.set(f.pid, [...(kills.get(f.pid) ?? []), f.start]);
    if (f.fault === 'sigterm') terminated.add(f.pid);
  }
  for (const list of kills.values()) list.sort((a, b) => a - b);

  const byRun = new Map<string, RunEvent[]>();
  for (const r of runs) {
    const key = runKey(r);
    const list = byRun.get(key);
    if (list === undefined) byRun.set(key, [r]);
    else list.push(r);
  }

  const intervals: RunInterval[] = [];
  const orphanEnds: RunEvent[] = [];
  for (const events of byRun.values()) {
    // Stable sort: events logged in the same ms keep their log order.
    const ordered = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map((x) => x.e);
    const open: RunEvent[] = [];
    for (const e of ordered) {
      if (e.event === 'start') {
        open.push(e);
        continue;
      }
      const start = open.shift();
      if (start === undefined) {
        orphanEnds.push(e);
        continue;
      }
      intervals.push({ ...fromStart(start), end: e.at, ending: e.event, ...(e.reason === undefined ? {} : { reason: e.reason }) });
    }
    for (const start of open) {
      const kill = kills.get(start.pid)?.find((t) => t >= start.at);
      if (kill !== undefined) intervals.push({ ...fromStart(start), end: kill, ending: 'killed' });
      else if (terminated.has(start.pid)) {
        intervals.push({ ...fromStart(start), end: Math.max(start.at, lastByPid.get(start.pid) ?? start.at), ending: 'terminated' });
      } else intervals.push({ ...fromStart(start), end: Math.max(start.at, dataEnd), ending: 'open' });
    }
  }
  intervals.sort((a, b) => a.start - b.start);
  return { intervals, orphanEnds, dataEnd };
}

function fromStart(s: RunEvent): Omit<RunInterval, 'end' | 'ending'> {
  return { job: s.job, item: s.item, fire: s.fire, attempt: s.attempt, pid: s.pid, worker: s.worker, token: s.token, start: s.at };
}
