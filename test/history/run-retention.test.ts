import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import { HistoryWriter } from '../../src/history/history-writer.js';
import { openHistoryPool } from '../../src/history/history-db.js';
import { applyRetention } from '../../src/history/run-retention.js';
import { listPartitions, partitionName } from '../../src/history/run-partitions.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import { countRuns, memoryLogger, runOf } from './history-support.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-05-20T12:00:00.000Z');

describe('applyRetention()', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = openHistoryPool(db.url, memoryLogger().log);
    const { log } = memoryLogger();
    const writer = new HistoryWriter({ pool: openHistoryPool(db.url, log), log });
    // 40 days of one run a day for `daily`, and 50 runs today for `busy`.
    for (let d = 0; d < 40; d++) writer.record(runOf('daily', 0, new Date(NOW - d * DAY)));
    for (let i = 0; i < 50; i++) writer.record(runOf('busy', i % 2, new Date(NOW - i * 1000)));
    await writer.close();
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  test('drops the day partitions older than retentionDays, whole; caps rows per job, keeping the newest', async () => {
    expect((await listPartitions(pool)).length).toBe(40);
    const result = await applyRetention(pool, { retentionDays: 30, maxRowsPerJob: 20, now: NOW });
    expect(result.skipped).toBe(false);
    // Days older than 30 days: 2026-04-19 and before (9 of them: d = 31..39 plus the one that ends at the cutoff).
    const left = await listPartitions(pool);
    expect(left[0]!.name).toBe(partitionName(Date.parse('2026-04-20T00:00:00Z')));
    expect(result.dropped).toHaveLength(40 - left.length);
    expect(result.capped).toEqual({ busy: 30, daily: left.length - 20 });
    expect(await countRuns(db.url, `job = 'busy'`)).toBe(20);
    expect(await countRuns(db.url, `job = 'busy' AND fire_time > '${new Date(NOW - 20_000).toISOString()}'`)).toBe(20);
    expect(await countRuns(db.url, `job = 'daily'`)).toBe(20);
  });
});
