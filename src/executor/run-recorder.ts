import type { RunOutcome } from '../model/progress-record.js';
import type { BeginRequest, BeginResult } from './run-ledger.js';
import type { FireNotes } from './fire-note.js';
import type { CronSchedule } from '../cron/cron-schedule.js';
import { sharedSchedule } from '../cron/shared-schedule.js';
import { fireIdOf } from './job-context.js';

/**
 * One entry of the run history, as the worker that handled it records it: a run whose handler was
 * entered (any outcome), or fires that did not run (`missed`, `skipped`, `fires` of them, the
 * latest at `fireTime`), or a fire recorded as failed without running (poisoned).
 */
export interface RecordedRun {
  job: string;
  item: number;
  fireTime: Date;
  fireId: string;
  /** The last attempt made (0 for fires that did not run). */
  attempt: number;
  worker: string;
  /** The member (ZooKeeper session) of the worker. */
  member?: string;
  /** The run's fencing token (absent for fires that did not run). */
  fencingToken?: string;
  /** Why the fire ran: schedule, failover, trigger or catch-up. */
  reason: RecordedReason;
  startedAt?: Date;
  endedAt: Date;
  durationMs?: number;
  outcome: RunOutcome;
  error?: string;
  /** Stages this fire had completed when the run ended. */
  stagesDone?: string[];
  /** How many fires this entry stands for (missed and skipped notes). @default 1 */
  fires?: number;
  /**
   * The job's schedule, on a note of several fires (`withSchedules`): the history writer then
   * stores one row per fire, walking the schedule back from `fireTime` (`history/note-rows.ts`).
   */
  schedule?: NoteSchedule;
}

/** What expanding a note needs of a job's schedule (a `CronSchedule`). */
export interface NoteSchedule {
  /** The latest instant at or before `atOrBefore`, or null. */
  previous(atOrBefore: Date): Date | null;
}

export type RecordedReason = 'schedule' | 'failover' | 'trigger' | 'catch-up';

/**
 * Where the executor hands every run and every missed or skipped fire it records. `record` is
 * called on the firing path: it must return at once and never throw (the history writer buffers).
 */
export interface RunRecorder {
  record(run: RecordedRun): void;
}

/** Why a fire request was made (`FireRequest.reason`; spelled out here so that this module imports nothing of the executor). */
type RequestReason = 'schedule' | 'failover' | 'misfire' | 'queued' | 'trigger';

/** The reason stored for a fire request's reason (a queued fire is a scheduled one; a misfire re-run is catch-up). */
export function recordedReason(reason: RequestReason): RecordedReason {
  return reason === 'queued' ? 'schedule' : reason === 'misfire' ? 'catch-up' : reason;
}

/**
 * What a begin wrote besides starting a run: the notes of missed and skipped fires it recorded (its
 * result's: the request's less the fires accounted for already), and a poisoned fire (recorded as
 * failed, never run).
 */
export function recordBegun(recorder: RunRecorder, req: BeginRequest & { reason: RequestReason }, result: BeginResult, worker: string, now: number): void {
  if (result.status !== 'started' && result.status !== 'poisoned') return;
  recordNotes(recorder, req.job, req.item, result.notes, worker, now, recordedReason(req.reason));
  if (result.status === 'poisoned') {
    recorder.record({ job: req.job, item: req.item, worker, reason: recordedReason(req.reason), endedAt: new Date(now), outcome: 'failed', fireTime: req.fireTime, fireId: fireIdOf(req.job, req.fireTime, req.item), attempt: req.attempt - 1, error: req.poison?.reason.slice(0, 500) });
  }
}

/**
 * Notes of fires that did not run, as written to the item's record (by a begin, a release, or
 * `RunLedger.recordNotes`): one entry per note, `fires` of them, the latest at `fireTime`.
 */
export function recordNotes(recorder: RunRecorder, job: string, item: number, notes: FireNotes, worker: string, now: number, reason: RecordedReason = 'schedule'): void {
  for (const [outcome, note] of [['missed', notes.missed], ['skipped', notes.skipped]] as const) {
    if (!note) continue;
    const from = note.earliest && note.count > 1 ? ` from ${note.earliest.toISOString()}` : '';
    recorder.record({ job, item, worker, reason, endedAt: new Date(now), attempt: 0, outcome, fireTime: note.latest, fireId: fireIdOf(job, note.latest, item), fires: note.count, error: `${note.count} fire(s) ${outcome}${from}` });
  }
}

/**
 * `recorder` with every note of several fires given its job's schedule (`definitionOf`: the
 * definitions the executor runs), so that it can be stored one row per fire. Schedules are parsed
 * once per job and cron; a job not known (any more) leaves the note as it is.
 */
export function withSchedules(recorder: RunRecorder, definitionOf: (job: string) => { cron: string; timeZone: string } | undefined): RunRecorder {
  const schedules = new Map<string, CronSchedule>();
  const scheduleOf = (job: string): CronSchedule | undefined => {
    const def = definitionOf(job);
    if (!def) return undefined;
    let schedule = schedules.get(job);
    if (schedule?.cron !== def.cron || schedule.timeZone !== def.timeZone) {
      try {
        schedule = sharedSchedule(def.cron, def.timeZone);
      } catch {
        return undefined; // never for a definition the worker runs (validated)
      }
      schedules.set(job, schedule);
    }
    return schedule;
  };
  return {
    record(run) {
      const schedule = (run.fires ?? 1) > 1 && !run.schedule ? scheduleOf(run.job) : undefined;
      recorder.record(schedule ? { ...run, schedule } : run);
    },
  };
}

/** `recorder` with every entry stamped with the current member name (it changes with each session). */
export function withMember(recorder: RunRecorder, member: { readonly name: string }): RunRecorder {
  const name = (): string | undefined => {
    try {
      return member.name;
    } catch {
      return undefined; // not registered (yet, or any more)
    }
  };
  return { record: (run) => recorder.record({ ...run, member: name() }) };
}
