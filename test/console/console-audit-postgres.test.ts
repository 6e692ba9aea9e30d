import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { TestFleet, def } from '../api/fleet-fixture.js';
import { zkConnect } from '../support/zk-connect.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import type { ConsoleApp } from '../../src/console/console-app.js';
import { ConsoleClient, startConsole } from './console-fixture.js';

const YEARLY = '0 0 0 1 1 *';

// Issue 12: with PostgreSQL configured, the console's actions enter the audit trail there (not in
// ZooKeeper), each with the console user's name, and /api/v1/audit reads them back from there.
describe('console audit trail in PostgreSQL', () => {
  const fleet = new TestFleet('console-audit-pg');
  let db: TestDatabase;
  let app: ConsoleApp;
  let operator: ConsoleClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    await fleet.start('w1', [def('orders', { cron: YEARLY, shards: 2 })]);
    await fleet.owned('orders', 2);
    app = await startConsole(zkConnect(), fleet.namespace, { pgUrl: db.url });
    operator = new ConsoleClient(app.url!);
    expect((await operator.login('operator')).status).toBe(200);
  });

  afterAll(async () => {
    await app?.close();
    await fleet.close();
    await db?.drop();
  });

  it("an action and a refused one are rows of PostgreSQL's audit table with actor console:<user>; none in ZooKeeper", async () => {
    expect((await operator.request('POST', '/api/v1/jobs/orders/disable', { item: 1 })).status).toBe(200);
    expect((await operator.request('POST', '/api/v1/jobs/orders/disable', { item: 1 })).status).toBe(400); // already disabled: refused, audited
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = (await client.query<{ console_user: string; action: string; target: string; result: unknown }>('SELECT console_user, action, target, result FROM zkshard_audit ORDER BY id')).rows;
      expect(rows.map((r) => [r.console_user, r.action, r.target])).toEqual([
        ['operator', 'disable', 'orders#1'],
        ['operator', 'disable', 'orders#1'],
      ]);
      expect(rows[0]!.result).toBe('ok');
      expect(rows[1]!.result).not.toBe('ok');
    } finally {
      await client.end();
    }
    const listed = (await operator.get('/api/v1/audit')).body as Array<{ actor: string; action: string; result: string }>;
    expect(listed.map((r) => r.action)).toEqual(['disable', 'disable']);
    expect(listed[1]!.result).toBe('ok'); // newest first
    for (const r of listed) expect(r.actor).toMatch(/^console:operator /);
    // Nothing went to ZooKeeper's bounded audit list.
    expect(await (await fleet.zk()).exists(fleet.paths.audit)).toBeNull();
  });
});
