import { fireIdOf } from '../executor/job-context.js';
import type { NoteSchedule, RecordedRun } from '../executor/run-recorder.js';

/**
 * Most rows one note of missed or skipped fires becomes: its latest fires one row each, the rest
 * one row (`fires` of them, at the latest of the rest). 10,000 fires is 2 h 46 min of an
 * every-second job, about a second of the writer's CPU (walking a schedule back costs 25-500 µs
 * a fire).
 */
export const MAX_ROWS_PER_NOTE = 10_000;

/**
 * Whether `run` is a note that {@link noteRows} expands: several fires, its job's schedule known,
 * and its latest fire an instant of that schedule (else the schedule changed since: the note stays
 * one row).
 */
export function expandable(run: RecordedRun): run is RecordedRun & { schedule: NoteSchedule } {
  if ((run.fires ?? 1) <= 1 || run.schedule === undefined) return false;
  try {
    return run.schedule.previous(run.fireTime)?.getTime() === run.fireTime.getTime();
  } catch {
    return false;
  }
}

/** How many rows `run` becomes (1 unless it is an expandable note). */
export function rowCountOf(run: RecordedRun, maxRows = MAX_ROWS_PER_NOTE): number {
  return expandable(run) ? Math.min(run.fires ?? 1, maxRows + 1) : 1;
}

/**
 * The rows of a note of `fires` consecutive instants of its schedule ending at `fireTime`: one row
 * per fire, latest first, each with its own fire time and fire id (`fireIdOf`, as a run of that
 * fire would have). Beyond `maxRows`, one last row stands for the rest (`fires` of them, at the
 * latest of the rest). Lazy: the caller pulls rows in chunks (each costs a walk of the schedule).
 */
export function* noteRows(note: RecordedRun & { schedule: NoteSchedule }, maxRows = MAX_ROWS_PER_NOTE): Generator<RecordedRun> {
  const count = note.fires ?? 1;
  const latest = note.fireTime.toISOString();
  const { schedule, ...base } = note;
  let at: Date | null = note.fireTime;
  let last = note.fireTime;
  for (let i = 0; i < count; i++) {
    const rest = count - i;
    if (at === null || i === maxRows) {
      const why = at === null ? 'no earlier instant of the schedule found' : `one row per fire is stored for the latest ${maxRows} only`;
      const fireTime: Date = at ?? last;
      yield { ...base, fireTime, fireId: fireIdOf(note.job, fireTime, note.item), fires: rest, error: `${rest} of ${count} fires ${note.outcome} in one note, this one and the earlier ones (${why}); the latest at ${latest}` };
      return;
    }
    last = at;
    yield { ...base, fireTime: at, fireId: fireIdOf(note.job, at, note.item), fires: 1, error: `fire ${rest} of ${count} ${note.outcome} in one note, the latest at ${latest}` };
    if (rest > 1) at = previousOf(schedule, at);
  }
}

/** The instant of `schedule` before `t`, or null. */
function previousOf(schedule: NoteSchedule, t: Date): Date | null {
  try {
    return schedule.previous(new Date(t.getTime() - 1));
  } catch {
    return null;
  }
}
