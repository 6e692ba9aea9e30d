import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import './provided-context.js';
import { createDatabase } from '../../src/testing/postgres-database.js';

/** A fresh database on the run's PostgreSQL, for one test file or test; `drop()` removes it. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** URL of the run's shared PostgreSQL (provided by `global-setup.ts`). */
export function pgUrl(): string {
  const url = inject('pgUrl');
  if (typeof url !== 'string' || url === '') throw new Error("no 'pgUrl' provided: is test/support/global-setup.ts the globalSetup in vitest.config.ts?");
  return url;
}

/** Creates `zkshard_test_<random>` on `serverUrl` (default: the run's PostgreSQL). */
export async function createTestDatabase(serverUrl: string = pgUrl()): Promise<TestDatabase> {
  const name = `zkshard_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const url = await createDatabase(serverUrl, name);
  return {
    url,
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
