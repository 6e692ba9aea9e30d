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
  entryTiming?: EntryTiming;
}

/** The lateness targets of PRODUCT.md §5 at 1,000 jobs × 8 items every second: p99 and p99.9, ms. */
export const LATENESS_P99_TARGET_MS = 5;
export const LATENESS_P999_TARGET_MS = 20;

/** How late an entry counts as late here: the p99 target. */
export const LATE_ENTRY_MS = LATENESS_P99_TARGET_MS;

/** One worker's entries at one fire instant. */
export interface WorkerInstant {
  /** The fire instant, ISO. */
  fire: string;
  worker: string;
  /** Its first and last entry's lateness, ms. */
  firstMs: number;
  lastMs: number;
  entries: number;
  /** Entries later than `LATE_ENTRY_MS`. */
  late: number;
}

/** Per worker and fire instant: when its handlers were entered, and where the late entries were. */
export interface EntryTiming {
  firstEntry: Summary;
  span: Summary;
  /**
   * Entries later than `LATE_ENTRY_MS`: `startedLate` in worker-instants whose first entry was
   * already that late (the worker's timer fired late or it got no core: all of its entries are late
   * together), `duringEntries` in the others (a stall among its entries: a collection, another
   * process taking the core).
   */
  lateEntries?: { total: number; startedLate: number; duringEntries: number };
  /** The worker-instants with the latest last entry, latest first (at most `LATEST_INSTANTS`). */
  latest?: WorkerInstant[];
}

/** How many of the latest worker-instants `instantBreakdown` keeps. */
export const LATEST_INSTANTS = 10;

/** Per worker and fire instant of `runs`: the first entry's lateness and the first-to-last span, and where the late entries were (see `EntryTiming`). */
export function instantBreakdown(runs: ReadonlyArray<{ worker: string; fire: number; entry: number }>): EntryTiming {
  const groups = new Map<string, { worker: string; fire: number; first: number; last: number; entries: number; late: number }>();
  for (const r of runs) {
    const key = `${r.worker} ${r.fire}`;
    const late = r.entry - r.fire > LATE_ENTRY_MS ? 1 : 0;
    const g = groups.get(key);
    if (!g) groups.set(key, { worker: r.worker, fire: r.fire, first: r.entry, last: r.entry, entries: 1, late });
    else {
      if (r.entry < g.first) g.first = r.entry;
      if (r.entry > g.last) g.last = r.entry;
      g.entries++;
      g.late += late;
    }
  }
  const all = [...groups.values()];
  const lateEntries = { total: 0, startedLate: 0, duringEntries: 0 };
  for (const g of all) {
    lateEntries.total += g.late;
    if (g.first - g.fire > LATE_ENTRY_MS) lateEntries.startedLate += g.late;
    else lateEntries.duringEntries += g.late;
  }
  const latest = all
    .sort((a, b) => b.last - b.fire - (a.last - a.fire))
    .slice(0, LATEST_INSTANTS)
    .map((g) => ({ fire: new Date(g.fire).toISOString(), worker: g.worker, firstMs: g.first - g.fire, lastMs: g.last - g.fire, entries: g.entries, late: g.late }));
  return { firstEntry: summarize(all.map((g) => g.first - g.fire)), span: summarize(all.map((g) => g.last - g.first)), lateEntries, latest };
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
