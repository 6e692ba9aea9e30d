// The rebalance scenario's job handler. Its workers run in this process, so every handler entry is
// recorded in memory (no file, no flush delay): the scenario imports this same module (one module
// instance per URL) and reads the entries back.
import type { RunRecord } from '../lib/run-records.js';

/** One handler entry (the bench handler's record: times in ms since the epoch, `entry` with sub-ms precision). */
export type RunEntry = RunRecord;

/** The subset of a handler's context this handler reads. */
interface HandlerContext {
  job: string;
  item: number;
  fireTime: Date;
  attempt: number;
  workerId: string;
}

const entries: RunEntry[] = [];

/** Now, in ms since the epoch with sub-ms precision: the one clock of this scenario. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Every entry recorded so far, in entry order (do not mutate). */
export function recordedRuns(): readonly RunEntry[] {
  return entries;
}

/** Forgets the entries made before `entryMs` (keeps memory bounded on long runs). */
export function forgetRunsBefore(entryMs: number): void {
  let cut = 0;
  while (cut < entries.length && entries[cut]!.entry < entryMs) cut++;
  if (cut > 0) entries.splice(0, cut);
}

/** Forgets every entry (start of a scenario run). */
export function forgetAllRuns(): void {
  entries.length = 0;
}

/** The handler (default export): records its entry and returns at once. */
export default function recordRun(ctx: HandlerContext): void {
  entries.push({ job: ctx.job, item: ctx.item, fire: ctx.fireTime.getTime(), entry: epochNow(), attempt: ctx.attempt, worker: ctx.workerId });
}
