import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../src/history/migrations.js';
import { openHistoryPool } from '../../src/history/history-db.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import { memoryLogger } from './history-support.js';

describe('migrate()', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  test('workers migrating at once: each step applied once, under the advisory lock', async () => {
    const pools = Array.from({ length: 4 }, () => openHistoryPool(db.url, memoryLogger().log));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pools[0]!)).toEqual([]);
      const { rows } = await pools[0]!.query('SELECT version FROM zkshard_schema_migrations ORDER BY version');
      expect(rows.map((r: { version: number }) => r.version)).toEqual([SCHEMA_VERSION]);
      const indexes = await pools[0]!.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'zkshard_runs' ORDER BY indexname`);
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual(['zkshard_runs_fire_id', 'zkshard_runs_job_item_time', 'zkshard_runs_job_time', 'zkshard_runs_outcome_time', 'zkshard_runs_pkey']);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('a database at a newer schema version is refused (HISTORY_SCHEMA)', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const pool = openHistoryPool(db.url, memoryLogger().log);
    try {
      await client.query(`INSERT INTO zkshard_schema_migrations (version, name) VALUES (${SCHEMA_VERSION + 1}, 'future')`);
      await expect(migrate(pool)).rejects.toMatchObject({ code: 'HISTORY_SCHEMA' });
    } finally {
      await client.query(`DELETE FROM zkshard_schema_migrations WHERE version = ${SCHEMA_VERSION + 1}`);
      await client.end();
      await pool.end();
    }
  });
});
