import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg-database.js';
import { SCHEMA_VERSION } from '../../src/history/migrations.js';
import { EXIT } from '../../src/cli/exit-codes.js';

const ZKSHARD_BIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'zkshard.js');

/** Runs the built `zkshard` with `args`; resolves its exit code and output. */
function zkshard(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [ZKSHARD_BIN, ...args], { env: { ...process.env, ZKSHARD_PG_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('zkshard history migrate', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('applies the migrations of an empty database, then says it is current; the password never printed', async () => {
    db = await createTestDatabase();
    const first = await zkshard(['history', 'migrate', '--pg', db.url]);
    expect(first.code, first.stderr).toBe(EXIT.OK);
    expect(first.stdout).toMatch(new RegExp(`history schema at version ${SCHEMA_VERSION} \\(applied 1(, \\d+)*\\)`));
    const again = await zkshard(['history', 'migrate'], { ZKSHARD_PG_URL: db.url });
    expect(again.code, again.stderr).toBe(EXIT.OK);
    expect(again.stdout).toContain(`history schema at version ${SCHEMA_VERSION} (already current)`);
    const password = new URL(db.url).password;
    if (password) expect(first.stdout + again.stdout).not.toContain(password);
  });

  it('a database that cannot be reached: exit 3 (unavailable), and where it looked', async () => {
    const res = await zkshard(['history', 'migrate', '--pg', 'postgres://nobody@127.0.0.1:1/none']);
    expect(res.code).toBe(EXIT.UNAVAILABLE);
    expect(res.stderr).toContain('cannot reach PostgreSQL at postgres://nobody@127.0.0.1:1/none');
  });
});
