import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './java.js';
import { PostgresNotFoundError } from './postgres-errors.js';
import { findPostgresBinDir, PostgresServer, type PostgresServerOptions } from './postgres-server.js';

/** Where the PostgreSQL came from: `ZKSHARD_PG_URL`, or a local server started for us. */
export type PostgresSourceKind = 'env' | 'local';

/** A PostgreSQL to use; `close()` stops it if `findPostgres` started it (a no-op for `env`). */
export interface FoundPostgres {
  /** Connection URL of a database the caller may create databases and schemas from. */
  readonly url: string;
  readonly kind: PostgresSourceKind;
  /** The server, when `findPostgres` started one (tests stop and restart it). */
  readonly server?: PostgresServer;
  close(): Promise<void>;
}

export interface FindPostgresOptions {
  /** Where `ZKSHARD_PG_URL` is read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Run `scripts/install-postgres.sh` when the server binaries are missing and we are root. @default true */
  install?: boolean;
  /** Options of the local server. @default {} (free port, scratch dir) */
  server?: PostgresServerOptions;
  /** Progress notes (installing...). @default one line each to stderr */
  log?: (message: string) => void;
}

/**
 * Finds a PostgreSQL for tests, the demo and benchmarks, like ZooKeeper (PRODUCT §6):
 * 1. `ZKSHARD_PG_URL`, if set: used as is; `close()` does nothing;
 * 2. Debian's `postgresql` server started on a loopback port in a scratch directory
 *    ({@link PostgresServer}), installing the package with `scripts/install-postgres.sh` first when
 *    it is missing and we are root;
 * 3. else a {@link PostgresNotFoundError} saying how to get one.
 */
export async function findPostgres(options: FindPostgresOptions = {}): Promise<FoundPostgres> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((message: string) => process.stderr.write(`zkshard: ${message}\n`));
  const fromEnv = env.ZKSHARD_PG_URL?.trim();
  if (fromEnv) return { url: fromEnv, kind: 'env', close: async () => undefined };

  if ((options.server?.binDir ?? findPostgresBinDir()) === undefined) {
    const script = findInstallScript();
    const why =
      options.install === false ? 'installing is off'
      : process.getuid?.() !== 0 ? 'not running as root'
      : findExecutable('apt-get') === undefined ? 'no apt-get on PATH (not a Debian-like system)'
      : script === undefined ? 'scripts/install-postgres.sh not found next to this package'
      : undefined;
    if (why !== undefined) {
      throw new PostgresNotFoundError(
        `no PostgreSQL: ZKSHARD_PG_URL is not set and the server binaries (initdb, postgres) are missing (${why}). Either\n` +
          '  - set ZKSHARD_PG_URL=postgres://user:password@host:5432/db, or\n' +
          '  - install Debian\'s package as root: sudo sh scripts/install-postgres.sh (apt-get install postgresql)',
      );
    }
    log('local PostgreSQL: installing Debian\'s postgresql package (scripts/install-postgres.sh)');
    await runScript(script!);
  }
  const server = new PostgresServer(options.server);
  try {
    await server.start();
  } catch (err) {
    await server.close().catch(() => undefined);
    throw err;
  }
  return { url: server.url(), kind: 'local', server, close: () => server.close() };
}

/** `scripts/install-postgres.sh` of the repository or package this module belongs to. */
function findInstallScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'install-postgres.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function runScript(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', [script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new PostgresNotFoundError(`${script} failed (exit ${code}):\n${output.trim()}`))));
  });
}
