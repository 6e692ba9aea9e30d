import { summarize, type Summary } from './stats.js';

/** What a lateness window measured, for zkshard and for the peer alike (fires scheduled inside the window only). */
export interface FireWindowFigures {
  /** Handler (processor) entries recorded for fires in the window. */
  runs: number;
  /** Fires due in the window. */
  expected: number;
  /** Entry minus the scheduled fire time, ms. */
  lateness: Summary;
  /** Runs of a fire beyond its first. */
  duplicates: number;
  /** Fires due in the window that never ran. */
  misses: number;
  /** Largest worker RSS seen during the window, MB. */
  maxRssMb: number;
  /**
   * Per worker and fire instant: how late its first handler was entered (the instant's timer, and
   * the worker getting a core) and how long it took from its first to its last (entering them one
   * after another, sharing the cores with the other workers and ZooKeeper), ms.
   */
  entryTiming?: { firstEntry: Summary; span: Summary };
}

/** Per worker and fire instant of `runs`: the first entry's lateness and the first-to-last span (see `FireWindowFigures.entryTiming`). */
export function instantBreakdown(runs: ReadonlyArray<{ worker: string; fire: number; entry: number }>): { firstEntry: Summary; span: Summary } {
  const groups = new Map<string, { first: number; last: number; fire: number }>();
  for (const r of runs) {
    const key = `${r.worker} ${r.fire}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { first: r.entry, last: r.entry, fire: r.fire });
    else {
      if (r.entry < g.first) g.first = r.entry;
      if (r.entry > g.last) g.last = r.entry;
    }
  }
  const all = [...groups.values()];
  return { firstEntry: summarize(all.map((g) => g.first - g.fire)), span: summarize(all.map((g) => g.last - g.first)) };
}

/**
 * The runs of fires scheduled in [from, to) every `periodMs` (from a multiple of it): the runs
 * themselves, how many fires were due (`perInstant` at each instant), runs of a fire beyond its first
 * (`fireKey` names a fire), and the fires that never ran.
 */
export function tallyFires<T extends { fire: number }>(
  records: readonly T[],
  fireKey: (r: T) => string,
  perInstant: number,
  from: number,
  to: number,
  periodMs = 1000,
): { runs: T[]; expected: number; duplicates: number; misses: number } {
  const runs = records.filter((r) => r.fire >= from && r.fire < to);
  const seen = new Set<string>();
  let duplicates = 0;
  for (const r of runs) {
    const key = fireKey(r);
    if (seen.has(key)) duplicates++;
    else seen.add(key);
  }
  const expected = perInstant * Math.round((to - from) / periodMs);
  return { runs, expected, duplicates, misses: expected - seen.size };
}
