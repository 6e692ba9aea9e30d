import type { FullRecord, InFlightRun, ProgressRecord } from '../model/progress-record.js';
import { notesAfter, type FireNote, type FireNotes } from './fire-note.js';
import { isoOfDate, maxIso } from '../model/iso-time.js';

/** What a begin asks of one item (the part of `BeginRequest` the decision reads). */
export interface BeginAsk {
  fireTime: Date;
  attempt: number;
  /** A failover re-run of the fire left in flight (`inFlight`) by a run that did not end. */
  rerun?: boolean;
  /** A manual trigger: its node's sequence number (a trigger runs at most once per item). */
  trigger?: number;
  /** On a re-run: how many runs of this fire were cut short by a lost owner, and those owners. */
  failovers?: { count: number; workers: readonly string[] };
  /** Fires that were missed before this one and that this write records. */
  missed?: FireNote;
  /** Fires dropped by the overlap policy (the item still ran) before this one, to record. */
  skipped?: FireNote;
  /**
   * The request's claim: every instant of the schedule after `after`, up to its fire (a scheduled
   * fire) or to its notes' latest, is accounted for by this request (run by it, or recorded by its
   * notes). A scheduled fire whose claim does not reach back to the item's frontier
   * (`lastScheduled`, else its creation) would leave instants behind it unaccounted: it answers
   * `takeover`. A claim that reaches the frontier moves `lastScheduled` to its notes' latest too.
   * Undefined: no claim (the frontier moves to a scheduled fire's time, as before).
   */
  after?: Date;
  /**
   * The item's ownership epoch on this worker when the fire was handed over (`FireScheduler.owns`):
   * a begin of an item taken over again since is not made (`gone`). Unset: not checked.
   */
  epoch?: number;
}

/**
 * - `begin`: write `record` (with the run put in flight in our ledger) and run;
 * - `takeover`: a fire is left in flight that this request does not continue: the item must be
 *   taken over first (re-run or record that fire, then the missed ones), never overwritten;
 * - `duplicate`: this fire (or trigger) was already taken on; never run one twice.
 */
export type BeginDecision = { kind: 'begin'; record: ProgressRecord; notes: FireNotes } | { kind: 'takeover' } | { kind: 'duplicate' };

/**
 * Decides, from an item's progress record as last read, whether a begin may start a run and what
 * it writes. Pure. The begin multi is version-checked against the record it was decided on, so a
 * decision on a stale record never commits: the record is read again and the decision made anew.
 *
 * The rules that keep guarantee 2 (nothing lost silently) and 1 (one run per fire):
 * - a fire left in flight (`inFlight`, its run gone) is only ever continued by an exact
 *   re-run of it (same fire time, the next attempt); any other begin answers `takeover`;
 * - a re-run of a fire that is no longer in flight (it finished, or someone re-ran it) is a
 *   `duplicate`;
 * - a scheduled fire at or before `lastScheduled`, or at or before the item's creation (`bornAt`:
 *   not the item's fire), is a `duplicate`; a trigger at or below
 *   `lastTrigger` is a `duplicate` (triggers are counted apart from the schedule, so a trigger
 *   never swallows a scheduled fire and a scheduled fire never swallows a trigger);
 * - `lastScheduled` is a frontier: every scheduled instant up to it was begun or recorded. A
 *   scheduled fire whose claim (`after`) does not reach back to it answers `takeover`, so the
 *   frontier never passes an instant nobody accounted for, even if the worker that knew of it
 *   dies before it writes its note (fleet simulation, seed 7118). `bornAt`: the item node's
 *   creation, the frontier of an item that never had a scheduled fire.
 * - the notes a begin records (`notes`) are the request's, less their instants at or before the
 *   frontier: those were accounted for already, by the begin that moved the frontier past them
 *   (two takeovers planned from one frontier; a note kept while another fire claimed its instants:
 *   fleet simulation, seeds 116, 159, 292). `next`: the schedule's instant after a time.
 */
export function decideBegin(
  current: ProgressRecord,
  ask: BeginAsk,
  self: { member: string; worker: string },
  startedAt: string,
  bornAt?: string,
  next?: (after: Date) => Date,
): BeginDecision {
  const fireTime = isoOfDate(ask.fireTime);
  const left = current.inFlight;
  if (ask.rerun) {
    if (!left) return { kind: 'duplicate' };
    if (left.fireTime !== fireTime || ask.attempt !== left.attempt + 1) return { kind: 'takeover' };
  } else {
    if (left) return { kind: 'takeover' };
    if (ask.trigger !== undefined) {
      if (current.lastTrigger !== undefined && ask.trigger <= current.lastTrigger) return { kind: 'duplicate' };
    } else if (current.lastScheduled !== undefined && fireTime <= current.lastScheduled) {
      return { kind: 'duplicate' };
    } else if (bornAt !== undefined && fireTime <= bornAt) {
      // Not one of the item's fires: it was made after (a worker whose clock is behind
      // ZooKeeper's sees the instant due late). Its claim would be one a takeover takes for an
      // earlier item of this name and passes over (fleet simulation, seed 54496).
      return { kind: 'duplicate' };
    }
  }
  const frontier = current.lastScheduled ?? bornAt;
  const reaches = ask.after !== undefined && (frontier === undefined || isoOfDate(ask.after) <= frontier);
  if (ask.after !== undefined && !reaches && !ask.rerun && ask.trigger === undefined) return { kind: 'takeover' };
  const inFlight: InFlightRun = { fireTime, attempt: ask.attempt, member: self.member, worker: self.worker, startedAt };
  if (ask.failovers && ask.failovers.count > 0) {
    inFlight.failovers = ask.failovers.count;
    inFlight.down = [...ask.failovers.workers];
  }
  const lastTrigger = ask.trigger !== undefined ? Math.max(current.lastTrigger ?? -1, ask.trigger) : current.lastTrigger;
  let lastScheduled = ask.trigger === undefined && !ask.rerun ? maxIso(current.lastScheduled, fireTime) : current.lastScheduled;
  const notes = notesAfter(ask, frontier, next);
  if (reaches) {
    if (notes.missed) lastScheduled = maxIso(lastScheduled, isoOfDate(notes.missed.latest));
    if (notes.skipped) lastScheduled = maxIso(lastScheduled, isoOfDate(notes.skipped.latest));
  }
  const { lastCompleted, outcome, attempt, durationMs, worker, by, recent } = current;
  const record = { lastScheduled, lastTrigger, lastCompleted, inFlight, outcome, attempt, durationMs, worker, by, recent } satisfies FullRecord;
  return { kind: 'begin', record, notes };
}
