import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import pg from 'pg';
import './provided-context.js';

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

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates `zkshard_test_<random>` on `serverUrl` (default: the run's PostgreSQL). */
export async function createTestDatabase(serverUrl: string = pgUrl()): Promise<TestDatabase> {
  const name = `zkshard_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
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
