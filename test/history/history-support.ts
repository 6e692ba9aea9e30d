import pg from 'pg';
import { pino } from 'pino';
import type { RecordedRun } from '../../src/executor/run-recorder.js';
import { fireIdOf } from '../../src/executor/job-context.js';

/** A logger that keeps what it was told (level and message), for assertions. */
export function memoryLogger(): { log: pino.Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { log, lines };
}

/** A successful run of `job#item` at `fireTime` (override any field). */
export function runOf(job: string, item: number, fireTime: Date, more: Partial<RecordedRun> = {}): RecordedRun {
  return {
    job,
    item,
    fireTime,
    fireId: fireIdOf(job, fireTime, item),
    attempt: 1,
    worker: 'worker-a',
    member: 'm-0000000001',
    fencingToken: '4294967302',
    reason: 'schedule',
    startedAt: fireTime,
    endedAt: new Date(fireTime.getTime() + 12),
    durationMs: 12,
    outcome: 'success',
    ...more,
  };
}

/** Rows in zkshard_runs. */
export async function countRuns(url: string, where = 'true'): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM zkshard_runs WHERE ${where}`);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}
