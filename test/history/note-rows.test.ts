import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CronSchedule } from '../../src/cron/cron-schedule.js';
import { recordNotes, withSchedules, type RecordedRun } from '../../src/executor/run-recorder.js';
import { openHistoryPool } from '../../src/history/history-db.js';
import { HistoryWriter } from '../../src/history/history-writer.js';
import { expandable, MAX_ROWS_PER_NOTE, noteRows } from '../../src/history/note-rows.js';
import { queryRuns } from '../../src/history/run-query.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import { countRuns, memoryLogger } from './history-support.js';

const T = (s: number) => new Date(Date.UTC(2026, 4, 20, 10, 0, s));
const iso = (d: Date) => d.toISOString();

/** The note `recordNotes` makes of `count` fires ending at `latest`, given the job's schedule. */
function noteOf(cron: string, count: number, latest: Date, outcome: 'missed' | 'skipped' = 'missed'): RecordedRun {
  const got: RecordedRun[] = [];
  const recorder = withSchedules({ record: (r) => void got.push(r) }, (job) => (job === 'j' ? { cron, timeZone: 'UTC' } : undefined));
  recordNotes(recorder, 'j', 2, { [outcome]: { count, latest } }, 'w', latest.getTime() + 500);
  return got[0]!;
}

describe('note rows', () => {
  test('noteRows() - 3 missed fires of an every-second job: 3 rows, latest first, each its fire time and fire id', () => {
    const note = noteOf('* * * * * *', 3, T(9));
    expect(expandable(note)).toBe(true);
    const rows = [...noteRows(note as never)];
    expect(rows.map((r) => [iso(r.fireTime), r.fireId, r.fires, r.outcome])).toEqual([
      [iso(T(9)), `j@${iso(T(9))}#2`, 1, 'missed'],
      [iso(T(8)), `j@${iso(T(8))}#2`, 1, 'missed'],
      [iso(T(7)), `j@${iso(T(7))}#2`, 1, 'missed'],
    ]);
    expect(rows[2]).toMatchObject({ job: 'j', item: 2, attempt: 0, worker: 'w', reason: 'schedule', error: `fire 1 of 3 missed in one note, the latest at ${iso(T(9))}` });
    expect(rows.every((r) => r.schedule === undefined)).toBe(true);
  });

  test('noteRows() - a */2 schedule walks back by its own instants', () => {
    const rows = [...noteRows(noteOf('*/2 * * * * *', 4, T(10), 'skipped') as never)];
    expect(rows.map((r) => iso(r.fireTime))).toEqual([T(10), T(8), T(6), T(4)].map(iso));
    expect(rows.every((r) => r.outcome === 'skipped' && r.fires === 1)).toBe(true);
  });

  test('noteRows() - beyond the bound, one row for the rest (fires = how many, at the latest of them)', () => {
    const rows = [...noteRows(noteOf('* * * * * *', 8, T(20)) as never, 5)];
    expect(rows.map((r) => [iso(r.fireTime), r.fires])).toEqual([[T(20), 1], [T(19), 1], [T(18), 1], [T(17), 1], [T(16), 1], [T(15), 3]].map(([t, n]) => [iso(t as Date), n]));
    expect(rows[5]!.error).toMatch(/^3 of 8 fires missed in one note, this one and the earlier ones \(one row per fire is stored for the latest 5 only\)/);
  });

  test('a note stays one row: one fire, its job unknown, or a latest that is not an instant of the schedule (changed since)', () => {
    expect(noteOf('* * * * * *', 1, T(3)).schedule).toBeUndefined();
    const unknown: RecordedRun[] = [];
    recordNotes(withSchedules({ record: (r) => void unknown.push(r) }, () => undefined), 'gone', 0, { missed: { count: 3, latest: T(3) } }, 'w', 0);
    expect(unknown[0]).toMatchObject({ fires: 3 });
    expect(unknown[0]!.schedule).toBeUndefined();
    expect(expandable(noteOf('*/2 * * * * *', 3, T(3)))).toBe(false);
  });

  test('withSchedules() - a schedule parsed once per job and cron, again when the cron changes', () => {
    let cron = '* * * * * *';
    const got: RecordedRun[] = [];
    const recorder = withSchedules({ record: (r) => void got.push(r) }, () => ({ cron, timeZone: 'UTC' }));
    recordNotes(recorder, 'j', 0, { missed: { count: 2, latest: T(4) } }, 'w', 0);
    recordNotes(recorder, 'j', 1, { missed: { count: 2, latest: T(4) } }, 'w', 0);
    cron = '*/2 * * * * *';
    recordNotes(recorder, 'j', 0, { missed: { count: 2, latest: T(4) } }, 'w', 0);
    expect(got[0]!.schedule).toBe(got[1]!.schedule);
    expect((got[2]!.schedule as CronSchedule).cron).toBe('*/2 * * * * *');
  });
});

describe('HistoryWriter - one row per missed or skipped fire', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  test('a note of 3 fires is 3 rows, each found by its fire id and by --outcome missed', async () => {
    const { log } = memoryLogger();
    const writer = new HistoryWriter({ pool: openHistoryPool(db.url, log), log });
    await writer.start();
    writer.record(noteOf('* * * * * *', 3, T(9)));
    await writer.close();
    expect(writer.written).toBe(3);
    const pool = openHistoryPool(db.url, log);
    try {
      const missed = await queryRuns(pool, { job: 'j', outcome: 'missed' });
      expect(missed.map((r) => [r.fireTime, r.fireId, r.fires])).toEqual([9, 8, 7].map((s) => [iso(T(s)), `j@${iso(T(s))}#2`, 1]));
      expect(await countRuns(db.url, `fire_id = 'j@${iso(T(8))}#2'`)).toBe(1);
    } finally {
      await pool.end();
    }
  });

  test(`the bound: a note of ${MAX_ROWS_PER_NOTE} + 3 fires is ${MAX_ROWS_PER_NOTE} rows and one for the 3 earliest, with a warning; a dropped note counts its rows`, async () => {
    const { log, lines } = memoryLogger();
    const writer = new HistoryWriter({ pool: openHistoryPool(db.url, log), log, batchSize: 4000 });
    await writer.start();
    const latest = new Date(Date.UTC(2026, 4, 21, 12, 0, 0));
    writer.record(noteOf('* * * * * *', MAX_ROWS_PER_NOTE + 3, latest));
    await writer.close();
    expect(writer.written).toBe(MAX_ROWS_PER_NOTE + 1);
    expect(await countRuns(db.url, `job = 'j' AND fire_time <= '${iso(latest)}' AND fire_time > '${iso(T(60))}'`)).toBe(MAX_ROWS_PER_NOTE + 1);
    const earliest = new Date(latest.getTime() - MAX_ROWS_PER_NOTE * 1000);
    expect(await countRuns(db.url, `fire_time = '${iso(earliest)}' AND fires = 3`)).toBe(1);
    expect(await countRuns(db.url, `fire_time < '${iso(earliest)}' AND fire_time > '${iso(T(60))}'`)).toBe(0);
    expect(lines.some((l) => l.level === 40 && /more fires than are stored one row each/.test(l.msg) && l.notStoredPerFire === 3)).toBe(true);

    const full = new HistoryWriter({ pool: openHistoryPool('postgres://127.0.0.1:1/none', log), log, bufferSize: 1 });
    full.record(noteOf('* * * * * *', 1, T(1)));
    full.record(noteOf('* * * * * *', 4, T(9)));
    expect(full.dropped).toBe(4);
    await full.close({ timeoutMs: 0 });
  });
});
