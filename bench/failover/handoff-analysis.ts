import type { RunRecord } from '../lib/run-records.js';

/** Margin before the release and after the new owner's first run in which every fire must have run. */
export const MISS_WINDOW_MS = 2000;

/** What is known about one moved item around one handoff. */
export interface HandoffInput {
  job: string;
  item: number;
  /** Old owner (worker id). */
  from: string;
  /** New owner (worker id). */
  to: string;
  /** The SIGTERM or the drain request, ms since the epoch. */
  triggeredAt: number;
  /** When the observer saw the old owner's last run of the item leave its ledger, if it had one after the trigger. */
  runReleasedAt: number | undefined;
  /** Every run record of this item (any worker, any time). */
  runs: readonly RunRecord[];
  /** Fire times of the item's job (first fire strictly after `after`). */
  nextFire: (after: number) => number;
}

/** One moved item's handoff. */
export interface ItemHandoff {
  job: string;
  item: number;
  from: string;
  to: string;
  /** Whether the old owner still ran the item after the trigger (the new owner had to wait for it). */
  runHeld: boolean;
  /** Release: the later of the trigger and the end of the old owner's last run (gone from its ledger). */
  releasedAt: number;
  /** The new owner's first run (undefined: none seen). */
  first?: { fire: number; entry: number; attempt: number };
  /** first.entry − max(release, first.fire), ms: how long after it could first run it ran. */
  handoffMs: number;
  /** first.entry − first.fire, ms (a fire due during the handoff and run by takeover is late). */
  latenessMs: number;
  /** Fires in [release − 2 s, first run + 2 s] without any run record. */
  missedFires: number[];
  /** Fires in that window entered more than once at attempt 1. */
  duplicates: number;
}

/**
 * Release, readiness and gaps of one moved item (pure). "Release" is the later of the trigger and
 * the end of the old owner's last run of the item (its run leaving its ledger, seen by the
 * observer): from then on nothing but the new owner's takeover stands between the item and its
 * next run. The new owner is "ready" at its first handler entry of the item; the handoff time is
 * that entry minus the later of the release and the scheduled time of the fire it runs, so a fire
 * due during the handoff counts from the release and a fire due after it counts as its lateness.
 */
export function analyzeHandoff(input: HandoffInput): ItemHandoff {
  const { runs, triggeredAt } = input;
  const releasedAt = Math.max(triggeredAt, input.runReleasedAt ?? triggeredAt);
  const base = { job: input.job, item: input.item, from: input.from, to: input.to, runHeld: input.runReleasedAt !== undefined, releasedAt };
  const firstRun = runs.filter((r) => r.worker === input.to && r.entry >= triggeredAt).sort((a, b) => a.entry - b.entry)[0];
  if (!firstRun) return { ...base, handoffMs: Number.NaN, latenessMs: Number.NaN, missedFires: [], duplicates: 0 };
  const from = releasedAt - MISS_WINDOW_MS;
  const to = firstRun.entry + MISS_WINDOW_MS;
  const fired = new Map<number, number>();
  for (const r of runs) if (r.attempt === 1 && r.fire >= from && r.fire <= to) fired.set(r.fire, (fired.get(r.fire) ?? 0) + 1);
  const ran = new Set(runs.map((r) => r.fire));
  const missedFires: number[] = [];
  for (let f = input.nextFire(from - 1); f <= to; f = input.nextFire(f)) if (!ran.has(f)) missedFires.push(f);
  return {
    ...base,
    first: { fire: firstRun.fire, entry: firstRun.entry, attempt: firstRun.attempt },
    handoffMs: firstRun.entry - Math.max(releasedAt, firstRun.fire),
    latenessMs: firstRun.entry - firstRun.fire,
    missedFires,
    duplicates: [...fired.values()].filter((n) => n > 1).length,
  };
}
