import { withOutcome, type RecentOutcome } from '../model/progress-record.js';

/**
 * Fires that did not run and are to be recorded with an item's next run: how many, and the latest
 * of them (`missed` and `skipped` of a `BeginRequest`).
 */
export interface FireNote {
  count: number;
  latest: Date;
  /**
   * The earliest of them. A note stands for `count` consecutive instants of the schedule ending at
   * `latest` (how it is recorded: "N fire(s) missed", latest): notes are merged only when one
   * continues the other (`continues`). Undefined: `latest` when `count` is 1, else unknown.
   */
  earliest?: Date;
}

/** What an item has to record of fires that did not run. */
export interface FireNotes {
  missed?: FireNote;
  skipped?: FireNote;
}

/** Both notes as one: counts added, the later `latest`. */
export function mergeNote(a: FireNote | undefined, b: FireNote): FireNote;
export function mergeNote(a: FireNote | undefined, b: FireNote | undefined): FireNote | undefined;
export function mergeNote(a: FireNote | undefined, b: FireNote | undefined): FireNote | undefined {
  if (!a) return b;
  if (!b) return a;
  const ea = earliestOf(a);
  const eb = earliestOf(b);
  const earliest = ea && eb ? (ea < eb ? ea : eb) : undefined;
  return { count: a.count + b.count, latest: a.latest > b.latest ? a.latest : b.latest, ...(earliest && { earliest }) };
}

function earliestOf(note: FireNote): Date | undefined {
  return note.earliest ?? (note.count === 1 ? note.latest : undefined);
}

/**
 * Whether the two notes, merged, still stand for consecutive instants of the schedule (`next`
 * gives the instant after a time): one starts at the instant right after the other's latest.
 */
export function continues(a: FireNote, b: FireNote, next: (after: Date) => Date): boolean {
  const [first, second] = a.latest <= b.latest ? [a, b] : [b, a];
  const start = earliestOf(second);
  return start !== undefined && next(first.latest).getTime() === start.getTime();
}

/** Both sets of notes as one. */
export function mergeNotes(a: FireNotes | undefined, b: FireNotes | undefined): FireNotes | undefined {
  if (!a) return b;
  if (!b) return a;
  return { missed: mergeNote(a.missed, b.missed), skipped: mergeNote(a.skipped, b.skipped) };
}

/** An item's recent outcomes with its notes added (one `missed` and one `skipped` entry at most). */
export function withNotes(recent: readonly RecentOutcome[] | undefined, notes: FireNotes, worker: string, at: string): RecentOutcome[] {
  let out = [...(recent ?? [])];
  if (notes.missed) {
    out = withOutcome(out, { fireTime: notes.missed.latest.toISOString(), outcome: 'missed', attempt: 0, worker, at, error: `${notes.missed.count} fire(s) missed` });
  }
  if (notes.skipped) {
    out = withOutcome(out, { fireTime: notes.skipped.latest.toISOString(), outcome: 'skipped', attempt: 0, worker, at, error: `${notes.skipped.count} fire(s) skipped: the item was still running` });
  }
  return out;
}
