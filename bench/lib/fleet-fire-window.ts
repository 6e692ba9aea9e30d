import type { BenchFleet } from './bench-fleet.js';
import { instantBreakdown, tallyFires, type FireWindowFigures } from './fire-tally.js';
import { rssMb } from './process-memory.js';
import { readRunRecords } from './run-records.js';
import { sleepUnlessAborted } from './sleep-unless-aborted.js';
import { summarize } from './stats.js';

/**
 * Lets a bench fleet fire through [from, to) (and `graceMs` more, for the last runs' records),
 * sampling its workers' RSS once a second, then stops it and tallies the fires of the window from
 * the handlers' records in `dir`: `perInstant` fires due every `periodMs`.
 */
export async function measureFireWindow(fleet: BenchFleet, dir: string, window: { from: number; to: number; perInstant: number; periodMs?: number; graceMs?: number }, signal: AbortSignal): Promise<FireWindowFigures> {
  let maxRssMb = 0;
  while (Date.now() < window.to + (window.graceMs ?? 1500) && !signal.aborted) {
    for (const id of fleet.ids) maxRssMb = Math.max(maxRssMb, rssMb(fleet.pid(id)!) ?? 0);
    await sleepUnlessAborted(1000, signal);
  }
  await fleet.close();
  const t = tallyFires(readRunRecords(dir), (r) => `${r.job} ${r.item} ${r.fire}`, window.perInstant, window.from, window.to, window.periodMs);
  return { runs: t.runs.length, expected: t.expected, duplicates: t.duplicates, misses: t.misses, lateness: summarize(t.runs.map((r) => r.entry - r.fire)), maxRssMb: Math.round(maxRssMb), entryTiming: instantBreakdown(t.runs) };
}
