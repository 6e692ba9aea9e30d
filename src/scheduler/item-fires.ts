/**
 * How the scheduler hands an item's due fires over: which run by the misfire policy, what each
 * claims (`BeginAsk.after`), and the notes kept for the item's next run (`FireScheduler`).
 */
import type { FireRequest } from '../executor/executor.js';
import { continues, mergeNote, type FireNote } from '../executor/fire-note.js';
import type { CronSchedule } from '../cron/cron-schedule.js';
import { misfireKeep } from './plan-takeover.js';
import { settleFires, type JobState } from './job-state.js';

/** Most unsettled fire instants (and fires held) remembered per item (the oldest are dropped: the item is stalled anyway). */
export const MAX_UNSETTLED = 1000;

/** An item's fires of one walk: the instants due, the ones the misfire policy runs, the note of the others. */
export interface DueFires {
  due: number[];
  run: number[];
  /** How many of `due` (the first ones) do not run, and their note. */
  notRun: number;
  note: FireNote | undefined;
  /** Several instants due at once: they are misfires, handled by the job's misfire policy. */
  late: boolean;
  /** The schedule's instant before `due[0]`. */
  prevFire: number | undefined;
  /**
   * `run` as dates, and the instant each claims back to before any note (`BeginAsk.after`): made
   * once per walk of the job and shared by the requests of all its items (a worker hands 2,000
   * over per instant at 1,000 jobs × 8 items; two dates each were 80 bytes a run kept past the
   * instant). Never changed once made.
   */
  runDates: readonly Date[];
  claims: ReadonlyArray<Date | undefined>;
}

/** The fires of `due` (instants of `s`'s schedule, ascending; `prevFire` the one before) as the misfire policy handles them. */
export function dueFires(s: JobState, due: number[], prevFire: number | undefined): DueFires {
  const late = due.length > 1;
  const run = late ? due.slice(due.length - Math.min(misfireKeep(s.def), due.length)) : due;
  const notRun = due.length - run.length;
  const note: FireNote | undefined = notRun > 0 ? { count: notRun, latest: new Date(due[notRun - 1]!), earliest: new Date(due[0]!) } : undefined;
  const runDates = run.map((t) => new Date(t));
  const claims = run.map((_, k) => {
    const before = k > 0 ? run[k - 1] : notRun > 0 ? due[notRun - 1] : prevFire;
    return before === undefined ? undefined : new Date(before);
  });
  return { due, run, notRun, note, late, prevFire, runDates, claims };
}

/** Keeps instants an item's takeover round accounts for (see `releaseHeld`), the newest MAX_UNSETTLED. */
export function holdFires(s: JobState, item: number, due: readonly number[]): void {
  const held = s.held.get(item) ?? [];
  held.push(...due);
  if (held.length > MAX_UNSETTLED) held.splice(0, held.length - MAX_UNSETTLED);
  s.held.set(item, held);
}

/**
 * Hands the item's fires of one walk over (`onTimer`, or `releaseHeld`): the ones the misfire
 * policy runs into `batch` (or `catchUp`, several of one item), each claiming back to the instant
 * before it through the notes it carries; the others recorded with the item's next run.
 */
export function fireItem(s: JobState, item: number, fires: DueFires, batch: FireRequest[], catchUp: FireRequest[]): void {
  const { due, run, note, late, prevFire, runDates, claims } = fires;
  if (note) keepNote(s, 'missed', item, note);
  let missed = s.missed.get(item);
  s.missed.delete(item);
  const skipped = s.skipped.get(item);
  s.skipped.delete(item);
  if (run.length === 0) {
    // `skip`: nothing of it runs; recorded with the item's next run.
    if (missed) s.missed.set(item, missed);
    if (skipped) s.skipped.set(item, skipped);
    settleFires(s, item, due[due.length - 1]!, true);
    return;
  }
  const target = run.length > 1 ? catchUp : batch;
  for (let k = 0; k < run.length; k++) {
    // With every field it gets on its way (its claim and notes here, its epoch as it is handed
    // over, what its begin recorded), so that none is added later: an object grown past its
    // literal's fields gets an out-of-object property array, one more allocation per run.
    const req: FireRequest = { job: s.def.name, item, fireTime: runDates[k]!, attempt: 1, reason: late ? 'misfire' : 'schedule', after: undefined, missed: undefined, skipped: undefined, epoch: undefined, recorded: undefined };
    // Its claim: the instant before it, back through the notes it carries (BeginAsk.after).
    let after = claims[k];
    if (k === 0) {
      if (missed) req.missed = missed;
      if (skipped) req.skipped = skipped;
      if (after) after = claimBack(s, after, [missed, skipped], due[0]!, prevFire);
      missed = undefined;
    }
    if (after) req.after = after;
    target.push(req);
  }
}

/**
 * Adds a note to what the item keeps for its next run. A note says only how many fires up to
 * when, so two notes with a gap between them (where fires ran) are never merged (fleet
 * simulation, seed 3438: a fire skipped at 4 s and one at 7 s read as the fires of 6 s and 7 s).
 * The older one is dropped, not written on its own: it is after the item's frontier, so the next
 * begin's claim cannot reach the frontier without it, and the takeover that begin asks for
 * records those fires from the frontier (a write per item here cost the 1,000-job bench a
 * transaction per item whenever the workers fell behind).
 */
export function keepNote(s: JobState, kind: 'missed' | 'skipped', item: number, note: FireNote): void {
  const map = s[kind];
  const kept = map.get(item);
  if (kept && !continues(kept, note, (t) => s.schedule.next(t))) map.set(item, kept.latest > note.latest ? kept : note);
  else map.set(item, mergeNote(kept, note));
}

/**
 * Walks a claim back through the notes a request carries: while a note ends at the claim's
 * instant, the claim moves to the instant before that note's earliest. `firstDue`/`prevFire`:
 * the first instant of the current walk and the one before it (known without a cron lookup).
 */
function claimBack(s: JobState, from: Date, notes: ReadonlyArray<FireNote | undefined>, firstDue: number, prevFire: number | undefined): Date | undefined {
  let at: Date | undefined = from;
  for (let moved = true; moved && at; ) {
    moved = false;
    for (const note of notes) {
      if (!note || note.latest.getTime() !== at.getTime()) continue;
      const earliest = note.earliest ?? (note.count === 1 ? note.latest : undefined);
      if (!earliest) return at;
      const before: number | undefined = earliest.getTime() === firstDue ? prevFire : instantBefore(s.schedule, earliest.getTime());
      at = before === undefined ? undefined : new Date(before);
      moved = true;
      break;
    }
  }
  return at;
}

/** The schedule's instant before `ms` (undefined when there is none within the look-back). */
export function instantBefore(schedule: CronSchedule, ms: number): number | undefined {
  return schedule.previous(new Date(ms - 1))?.getTime();
}
