import type { InFlightRun, ProgressRecord } from '../model/progress-record.js';

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
}

/**
 * - `begin`: write `record` (with the marker create) and run;
 * - `takeover`: a fire is left in flight that this request does not continue: the item must be
 *   taken over first (re-run or record that fire, then the missed ones), never overwritten;
 * - `duplicate`: this fire (or trigger) was already taken on; never run one twice.
 */
export type BeginDecision = { kind: 'begin'; record: ProgressRecord } | { kind: 'takeover' } | { kind: 'duplicate' };

/**
 * Decides, from an item's progress record as last read, whether a begin may start a run and what
 * it writes. Pure. The begin multi is version-checked against the record it was decided on, so a
 * decision on a stale record never commits: the record is read again and the decision made anew.
 *
 * The rules that keep guarantee 2 (nothing lost silently) and 1 (one run per fire):
 * - a fire left in flight (`inFlight`, its run's marker gone) is only ever continued by an exact
 *   re-run of it (same fire time, the next attempt); any other begin answers `takeover`;
 * - a re-run of a fire that is no longer in flight (it finished, or someone re-ran it) is a
 *   `duplicate`;
 * - a scheduled fire at or before `lastScheduled` is a `duplicate`; a trigger at or below
 *   `lastTrigger` is a `duplicate` (triggers are counted apart from the schedule, so a trigger
 *   never swallows a scheduled fire and a scheduled fire never swallows a trigger).
 */
export function decideBegin(
  current: ProgressRecord,
  ask: BeginAsk,
  self: { member: string; worker: string },
  startedAt: string,
): BeginDecision {
  const fireTime = ask.fireTime.toISOString();
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
    }
  }
  const inFlight: InFlightRun = { fireTime, attempt: ask.attempt, member: self.member, worker: self.worker, startedAt };
  if (ask.failovers && ask.failovers.count > 0) {
    inFlight.failovers = ask.failovers.count;
    inFlight.down = [...ask.failovers.workers];
  }
  const record: ProgressRecord = { ...current, inFlight };
  if (ask.trigger !== undefined) record.lastTrigger = Math.max(current.lastTrigger ?? -1, ask.trigger);
  else record.lastScheduled = maxIso(current.lastScheduled, fireTime);
  return { kind: 'begin', record };
}

function maxIso(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}
