import type { CronSchedule } from '../../src/cron/cron-schedule.js';
import type { MovedItem } from './move-analysis.js';
import type { RunEntry } from './run-recorder.js';

/** What happened to one moved item's runs across the move. */
export interface Handoff {
  job: string;
  item: number;
  /** Worker id of the new owner. */
  to: string;
  /** The new owner's first handler entry at or after the event start. */
  firstRun?: RunEntry;
  /** The fire time the new owner's first run should have: the one after the last fire run elsewhere. */
  expectedFire?: number;
}

export interface HandoffInput {
  moved: readonly MovedItem[];
  runs: readonly RunEntry[];
  /** Event start, ms since the epoch. */
  startedAt: number;
  schedules: ReadonlyMap<string, CronSchedule>;
  /** Worker id of a member name. */
  workerOf: (member: string) => string | undefined;
}

/** For each moved item with a new owner: its first run there and the fire it should have been. */
export function handoffs(input: HandoffInput): Handoff[] {
  const byKey = new Map<string, RunEntry[]>();
  for (const r of input.runs) {
    const key = `${r.job}#${r.item}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(r);
  }
  const out: Handoff[] = [];
  for (const m of input.moved) {
    const to = m.to === null ? undefined : input.workerOf(m.to);
    if (to === undefined) continue;
    const runs = byKey.get(`${m.job}#${m.item}`) ?? [];
    const firstRun = runs.find((r) => r.worker === to && r.entry >= input.startedAt);
    let lastElsewhere: number | undefined;
    for (const r of runs) {
      if (r.worker !== to && (firstRun === undefined || r.fire < firstRun.fire) && (lastElsewhere === undefined || r.fire > lastElsewhere)) lastElsewhere = r.fire;
    }
    const schedule = input.schedules.get(m.job);
    const expectedFire = lastElsewhere !== undefined && schedule ? schedule.next(new Date(lastElsewhere)).getTime() : undefined;
    out.push({ job: m.job, item: m.item, to, firstRun, expectedFire });
  }
  return out;
}

/** Fires (job, item, fire time) whose handler was entered more than once at attempt 1. */
export function doubleRuns(runs: readonly RunEntry[]): number {
  const seen = new Set<string>();
  let doubles = 0;
  for (const r of runs) {
    if (r.attempt !== 1) continue;
    const key = `${r.job}#${r.item}@${r.fire}`;
    if (seen.has(key)) doubles++;
    else seen.add(key);
  }
  return doubles;
}
