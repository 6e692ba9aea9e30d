import { setImmediate as nextTurn } from 'node:timers/promises';
import type pg from 'pg';
import type { RecordedRun } from '../executor/run-recorder.js';

/** One run history row to insert, with the id that makes a repeated INSERT store it once. */
export interface RunRow {
  id: string;
  run: RecordedRun;
}

/** Rows encoded for the JSON parameter per turn of the event loop. */
const ROWS_PER_TURN = 200;

const COLUMNS = 'id, job, item, fire_time, fire_id, attempt, worker, member, fencing_token, reason, started_at, ended_at, duration_ms, outcome, error, stages_done, fires';

/**
 * Inserts rows into `zkshard_runs` (their day partitions must exist), skipping those already there.
 * One JSON text parameter, taken apart by PostgreSQL (json_to_recordset). JSON.stringify is native,
 * where node-postgres' array parameters escaped every element in JavaScript: 73 ms of the event
 * loop per batch of 5,000 against 18 ms (measured); and the text is built a few hundred rows per
 * turn of the event loop, so that no turn is held for more than ~2 ms.
 */
export async function insertRunRows(pool: pg.Pool, rows: readonly RunRow[]): Promise<void> {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_TURN) {
    if (i > 0) await nextTurn();
    parts.push(JSON.stringify(rows.slice(i, i + ROWS_PER_TURN).map(rowOf)).slice(1, -1));
  }
  await pool.query(
    `INSERT INTO zkshard_runs (${COLUMNS})
     SELECT ${COLUMNS}
     FROM json_to_recordset($1::json) AS t(id uuid, job text, item int, fire_time timestamptz, fire_id text, attempt int, worker text, member text,
       fencing_token bigint, reason text, started_at timestamptz, ended_at timestamptz, duration_ms int, outcome text, error text, stages_done text[], fires int)
     ON CONFLICT DO NOTHING`,
    [`[${parts.join(',')}]`],
  );
}

/**
 * Whether PostgreSQL refused the rows for what they hold (SQLSTATE class 22, data exception, or
 * 23, integrity constraint violation): the same rows would be refused again, unlike a connection
 * or server error.
 */
export function isContentError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** A record as a row of the JSON parameter: one key per column. */
function rowOf({ id, run }: RunRow): Record<string, unknown> {
  return {
    id, job: run.job, item: run.item, fire_time: run.fireTime, fire_id: run.fireId, attempt: run.attempt, worker: run.worker,
    member: run.member ?? null, fencing_token: fencingTokenOf(run.fencingToken), reason: run.reason, started_at: run.startedAt ?? null,
    ended_at: run.endedAt, duration_ms: run.durationMs === undefined ? null : Math.min(run.durationMs, MAX_INT), outcome: run.outcome,
    error: run.error === undefined ? null : textOf(run.error.slice(0, 2000)),
    stages_done: run.stagesDone && run.stagesDone.length > 0 ? run.stagesDone.map(textOf) : null, fires: run.fires ?? 1,
  };
}

/** Lone UTF-16 surrogates (an emoji cut in two by the 2,000-character cut, say). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text PostgreSQL takes from JSON: NUL removed, lone surrogates replaced by U+FFFD. Either would
 * fail the whole batch (`unsupported Unicode escape sequence`).
 */
function textOf(s: string): string {
  return s.replaceAll('\0', '').replace(LONE_SURROGATE, '\ufffd');
}

/** A token as the bigint column stores it: a zxid (decimal, < 2^63), else null (never fails a batch). */
function fencingTokenOf(token: string | undefined): string | null {
  return token !== undefined && /^\d{1,19}$/.test(token) && BigInt(token) <= MAX_BIGINT ? token : null;
}

const MAX_BIGINT = 2n ** 63n - 1n;
/** The `int` columns' largest value (a run of more than ~24.8 days is stored as this long). */
const MAX_INT = 2 ** 31 - 1;
