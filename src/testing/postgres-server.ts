import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { IllegalStateError } from '../errors/illegal-state-error.js';
import { onProcessExit } from './exit-cleanup.js';
import { findFreePorts } from './free-port.js';
import { findExecutable } from './java.js';
import { waitFor } from './wait-for.js';
import { PostgresStartError } from './postgres-errors.js';

/** Options of a {@link PostgresServer}. */
export interface PostgresServerOptions {
  /** Port on 127.0.0.1. @default a free port, picked by the first `start()` */
  port?: number;
  /** Directory holding `initdb`/`postgres`. @default the newest /usr/lib/postgresql/<v>/bin, else PATH */
  binDir?: string;
  /** How long `start()` waits for the server to accept connections. @default 30000 */
  startTimeoutMs?: number;
}

/** The OS user that runs the server when we are root (PostgreSQL refuses to run as root). */
const SERVER_USER = 'postgres';

/**
 * A throw-away PostgreSQL server on 127.0.0.1, from Debian's `postgresql` binaries, for tests, the
 * demo and benchmarks: `initdb` in a scratch directory (trust authentication, superuser
 * `postgres`, durability off), then `postgres` itself as a child process, stopped by its pid. As
 * root it runs as the `postgres` OS user (through `setpriv`). `stop()`/`start()` keep the port and
 * the data (an outage); `close()` stops it and removes the directory.
 *
 * ```ts
 * const server = new PostgresServer();
 * await server.start();
 * // ... connect to server.url ...
 * await server.close();
 * ```
 */
export class PostgresServer {
  readonly #options: PostgresServerOptions;
  #port: number | undefined;
  #dir: string | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #unregister: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  constructor(options: PostgresServerOptions = {}) {
    this.#options = options;
    this.#port = options.port;
  }

  /** `postgres://postgres@127.0.0.1:<port>/<database>` (no password: trust on loopback). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** The port. Known after `start()` unless one was given. */
  get port(): number {
    if (this.#port === undefined) throw new IllegalStateError('PostgresServer: the port is picked by start(); call it first');
    return this.#port;
  }

  /** Pid of the postmaster, `undefined` while it does not run. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  /** Starts the server (running `initdb` the first time); resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#closing) throw new IllegalStateError('PostgresServer: start() after close()');
    if (this.pid !== undefined) return;
    const binDir = this.#options.binDir ?? findPostgresBinDir();
    if (binDir === undefined) throw new PostgresStartError('PostgreSQL server binaries not found (initdb, postgres): run scripts/install-postgres.sh as root, or set ZKSHARD_PG_URL', '');
    const asUser = serverUser();
    if (this.#dir === undefined) {
      this.#dir = await mkdtemp(join(tmpdir(), 'zkshard-pg-'));
      const dir = this.#dir;
      this.#unregister.push(onProcessExit(() => rmSync(dir, { recursive: true, force: true }), 'cleanup'));
      if (asUser) chownSync(dir, asUser.uid, asUser.gid);
      await run(asUser, join(binDir, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'], join(dir, 'initdb.log'));
    }
    this.#port ??= (await findFreePorts(1))[0]!;
    const dir = this.#dir;
    const logFile = join(dir, 'server.log');
    // Durability off: a scratch server; every other setting is PostgreSQL's default.
    const args = ['-D', join(dir, 'data'), '-p', String(this.#port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', `logging_collector=off`];
    const child = spawnAs(asUser, join(binDir, 'postgres'), args, logFile);
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const kill = onProcessExit(() => child.kill('SIGKILL'));
    void this.#exited.then(kill);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new PostgresStartError('PostgreSQL exited while starting', await tail(logFile));
          const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
          try {
            await client.connect();
            await client.query('select 1');
            return true;
          } finally {
            await client.end().catch(() => undefined);
          }
        },
        { timeoutMs: this.#options.startTimeoutMs ?? 30_000, intervalMs: 100, message: `PostgreSQL on 127.0.0.1:${this.#port}` },
      );
    } catch (err) {
      await this.stop();
      if (err instanceof PostgresStartError) throw err;
      throw new PostgresStartError(`PostgreSQL did not accept connections on 127.0.0.1:${this.#port}`, await tail(logFile), { cause: err });
    }
  }

  /** Stops the server (fast shutdown: sessions are ended) and waits for it; keeps port and data. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || this.pid === undefined) return;
    child.kill('SIGINT');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(killed);
    this.#child = undefined;
  }

  /** Stops the server and removes its directory. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.stop();
      if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
      for (const unregister of this.#unregister) unregister();
    })();
    return this.#closing;
  }
}

/** The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `postgres`, else their directory on PATH. */
export function findPostgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = join(root, v, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
    }
  }
  const initdb = findExecutable('initdb');
  const postgres = findExecutable('postgres');
  return initdb && postgres ? join(initdb, '..') : undefined;
}

/** As root: the `postgres` OS user's ids (PostgreSQL refuses root). Otherwise undefined (run as ourselves). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${SERVER_USER}:`));
  if (!line) throw new PostgresStartError(`running as root, but there is no OS user ${SERVER_USER} to run PostgreSQL as (Debian's postgresql package creates it)`, '');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function spawnAs(user: { uid: number; gid: number } | undefined, command: string, args: string[], logFile: string): ChildProcess {
  // setpriv execs the command itself (no intermediate process), so the pid is the server's.
  const [cmd, argv] = user ? ['setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--', command, ...args]] : [command, args];
  const child = spawn('/bin/sh', ['-c', 'exec "$@" >>"$LOG" 2>&1', 'sh', cmd, ...argv], { stdio: 'ignore', env: { ...process.env, LOG: logFile, LC_ALL: 'C.UTF-8' } });
  return child;
}

async function run(user: { uid: number; gid: number } | undefined, command: string, args: string[], logFile: string): Promise<void> {
  const child = spawnAs(user, command, args, logFile);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new PostgresStartError(`${command} exited with ${code}`, await tail(logFile));
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n').trim();
}
