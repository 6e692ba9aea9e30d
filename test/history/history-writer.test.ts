import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Registry } from 'prom-client';
import { HistoryWriter } from '../../src/history/history-writer.js';
import { openHistoryPool } from '../../src/history/history-db.js';
import { queryRuns } from '../../src/history/run-query.js';
import { migrate } from '../../src/history/migrations.js';
import { PostgresServer } from '../../src/testing/postgres-server.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import { waitFor } from '../support/wait-for.js';
import { countRuns, memoryLogger, runOf } from './history-support.js';

const T0 = new Date('2026-05-20T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('HistoryWriter', () => {
  let db: TestDatabase;
  const writers: HistoryWriter[] = [];
  const open = (url: string, more: Partial<ConstructorParameters<typeof HistoryWriter>[0]> = {}) => {
    const { log, lines } = memoryLogger();
    const writer = new HistoryWriter({ pool: openHistoryPool(url, log), log, ...more });
    writers.push(writer);
    return { writer, lines };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(writers.splice(0).map((w) => w.close({ timeoutMs: 0 })));
  });
  afterAll(async () => {
    await db.drop();
  });

  test('.record() then .flush() - every field stored, read back newest first', async () => {
    const { writer } = open(db.url);
    await writer.start();
    writer.record(runOf('sync', 0, at(0), { stagesDone: ['fetch', 'write'] }));
    writer.record(runOf('sync', 1, at(1), { outcome: 'failed', error: 'boom', attempt: 3, reason: 'failover' }));
    writer.record(runOf('sync', 1, at(2), { outcome: 'missed', attempt: 0, fires: 4, fencingToken: undefined, startedAt: undefined, durationMs: undefined }));
    await writer.flush();
    const pool = openHistoryPool(db.url, memoryLogger().log);
    try {
      const all = await queryRuns(pool, { job: 'sync' });
      expect(all.map((r) => [r.item, r.outcome])).toEqual([[1, 'missed'], [1, 'failed'], [0, 'success']]);
      expect(all[2]).toMatchObject({ job: 'sync', item: 0, fireTime: at(0).toISOString(), fireId: `sync@${at(0).toISOString()}#0`, attempt: 1, worker: 'worker-a', member: 'm-0000000001', fencingToken: '4294967302', reason: 'schedule', durationMs: 12, error: null, stagesDone: ['fetch', 'write'], fires: 1 });
      expect(all[1]).toMatchObject({ attempt: 3, reason: 'failover', error: 'boom' });
      expect(all[0]).toMatchObject({ fires: 4, fencingToken: null, startedAt: null });
      expect(await queryRuns(pool, { job: 'sync', item: 1, outcome: 'failed' })).toHaveLength(1);
      expect(await queryRuns(pool, { since: at(1), until: at(2) })).toHaveLength(1);
    } finally {
      await pool.end();
    }
    expect(writer.written).toBe(3);
    expect(writer.dropped).toBe(0);
  });

  test('text PostgreSQL would refuse (NUL, an emoji cut in two at 2,000 characters, a lone surrogate) is cleaned, not a batch that fails forever', async () => {
    const { writer } = open(db.url);
    await writer.start();
    const cut = `${'x'.repeat(1999)}😀 and more`; // the cut at 2,000 keeps half of the emoji
    writer.record(runOf('odd-text', 0, at(10), { outcome: 'failed', error: cut, stagesDone: ['a\0b', '\udc00c'] }));
    writer.record(runOf('odd-text', 1, at(10), { outcome: 'failed', error: 'nul\0here' }));
    await writer.flush();
    expect(writer.buffered).toBe(0);
    const pool = openHistoryPool(db.url, memoryLogger().log);
    try {
      const rows = await queryRuns(pool, { job: 'odd-text' });
      const byItem = rows.sort((a, b) => a.item - b.item).map((r) => [r.item, r.error?.length, r.error?.slice(-2), r.stagesDone]);
      expect(byItem).toEqual([[0, 2000, 'x\ufffd', ['ab', '\ufffdc']], [1, 7, 're', []]]);
    } finally {
      await pool.end();
    }
  });

  test('a row PostgreSQL refuses for its content is set aside (counted, warned about); the rest of its batch is written and nothing waits behind it', async () => {
    const local = await createTestDatabase();
    const admin = openHistoryPool(local.url, memoryLogger().log);
    try {
      const { writer, lines } = open(local.url);
      const registry = new Registry();
      writer.registerMetrics(registry);
      await migrate(admin, memoryLogger().log);
      await writer.start();
      // Whatever PostgreSQL may refuse one day (a constraint, a type's range): here a CHECK.
      await admin.query("ALTER TABLE zkshard_runs ADD CONSTRAINT no_poison CHECK (job <> 'poison')");
      for (let i = 0; i < 10; i++) writer.record(runOf(i === 6 ? 'poison' : 'fine', i, at(i)));
      writer.record(runOf('long', 0, at(20), { durationMs: 30 * 86_400_000 })); // longer than an int of ms: stored capped
      await writer.flush();
      expect(writer.buffered).toBe(0);
      expect(writer.rejected).toBe(1);
      expect(writer.written).toBe(10);
      expect(await countRuns(local.url)).toBe(10);
      expect((await queryRuns(admin, { job: 'long' }))[0]?.durationMs).toBe(2 ** 31 - 1);
      expect(await registry.getSingleMetricAsString('zkshard_history_rejected_total')).toMatch(/zkshard_history_rejected_total 1$/m);
      const warning = lines.find((l) => l.level === 40 && /refused/.test(l.msg));
      expect(warning).toMatchObject({ job: 'poison', item: 6, fireTime: at(6).toISOString(), err: { code: '23514' } });
      // The next records go straight through.
      writer.record(runOf('fine', 0, at(30)));
      await writer.flush();
      expect(writer.written).toBe(11);
    } finally {
      await admin.end();
      await local.drop();
    }
  });

  test('flushes by itself at least once per interval, and writes what is left on close', async () => {
    const local = await createTestDatabase();
    try {
      const { writer } = open(local.url, { flushIntervalMs: 100 });
      await writer.start();
      writer.record(runOf('tick', 0, at(0)));
      await waitFor(() => writer.written === 1, { message: 'the timer flush' });
      writer.record(runOf('tick', 0, at(1)));
      await writer.close();
      expect(await countRuns(local.url)).toBe(2);
    } finally {
      await local.drop();
    }
  });

  test('a full buffer drops and counts exactly (zkshard_history_dropped_total), with a warning', async () => {
    // An unreachable PostgreSQL: nothing is written, the buffer of 5 fills, 3 more are dropped.
    const { writer, lines } = open('postgres://postgres:secret@127.0.0.1:1/none', { bufferSize: 5, flushIntervalMs: 50 });
    const registry = new Registry();
    writer.registerMetrics(registry);
    await writer.start();
    for (let i = 0; i < 8; i++) writer.record(runOf('busy', 0, at(i)));
    expect(writer.buffered).toBe(5);
    expect(writer.dropped).toBe(3);
    expect(await registry.getSingleMetricAsString('zkshard_history_dropped_total')).toMatch(/zkshard_history_dropped_total 3$/m);
    expect(lines.some((l) => l.level === 40 && /buffer full/.test(l.msg))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});

describe('HistoryWriter - PostgreSQL down and back', () => {
  test('records of the outage wait in the buffer and are written when it returns; 0 dropped', async () => {
    const server = new PostgresServer();
    await server.start();
    const db = await createTestDatabase(server.url());
    const { log, lines } = memoryLogger();
    const writer = new HistoryWriter({ pool: openHistoryPool(db.url, log, { connectTimeoutMs: 500 }), log, flushIntervalMs: 50 });
    try {
      await writer.start();
      writer.record(runOf('outage', 0, at(0)));
      await waitFor(() => writer.written === 1, { message: 'first write' });
      await server.stop();
      for (let i = 1; i <= 20; i++) writer.record(runOf('outage', i % 4, at(i)));
      await waitFor(() => lines.some((l) => /cannot write to PostgreSQL/.test(l.msg)), { message: 'the outage warning' });
      expect(writer.buffered).toBe(20);
      await server.start();
      await waitFor(() => writer.buffered === 0, { timeoutMs: 20_000, message: 'the buffer written after the restart' });
      expect(writer.dropped).toBe(0);
      expect(await countRuns(db.url)).toBe(21);
      expect(lines.some((l) => /reachable again/.test(l.msg))).toBe(true);
    } finally {
      await writer.close({ timeoutMs: 1000 });
      await server.close();
    }
  });
});
