import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePorts } from '../../src/testing/free-port.js';
import type { BenchCleanup } from '../lib/bench-cleanup.js';

export interface RedisServerOptions {
  /** Working directory (log file; no data is persisted). */
  dir: string;
  /** How long to wait for PING to answer. @default 15000 */
  startTimeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on close. @default 3000 */
  stopGraceMs?: number;
}

/** A running redis-server started by the bench. */
export interface RedisServer {
  host: '127.0.0.1';
  port: number;
  pid: number;
  /** `redis_version` from INFO server, e.g. "7.0.15". */
  version: string;
  /** SIGTERM, then SIGKILL after the grace; idempotent. */
  close(): Promise<void>;
}

/** The redis-server executable on PATH (then /usr/bin, /usr/sbin), or a clear error. */
export function findRedisServer(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const file = join(dir, 'redis-server');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw new Error('redis-server is not installed: the peer scenario needs Debian\'s redis-server (apt-get install redis-server)');
}

/** `setpriv` when it can set a parent-death signal, so redis-server dies with the bench even on SIGKILL. */
function pdeathsig(): string[] {
  if (process.platform !== 'linux') return [];
  const help = spawnSync('setpriv', ['--help'], { encoding: 'utf8', timeout: 5000 });
  return `${help.stdout ?? ''}${help.stderr ?? ''}`.includes('--pdeathsig') ? ['setpriv', '--pdeathsig', 'KILL', '--'] : [];
}

/**
 * Sends one command to Redis over a fresh loopback connection and returns the reply's text (a
 * simple string, an integer, or a bulk string; an error reply rejects). Enough for PING, INFO and
 * FLUSHALL without a client library.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: string): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)));
    socket.on('error', (err) => done(err));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.subarray(0, eol).toString();
      if (head[0] === '+' || head[0] === ':') done(null, head.slice(1));
      else if (head[0] === '-') done(new Error(`redis ${args[0]}: ${head.slice(1)}`));
      else if (head[0] === '$') {
        const len = Number(head.slice(1));
        if (len < 0) done(null, '');
        else if (buf.length >= eol + 2 + len) done(null, buf.subarray(eol + 2, eol + 2 + len).toString());
      } else done(new Error(`redis ${args[0]}: unexpected reply ${JSON.stringify(head)}`));
    });
  });
}

/** Stops a child by pid: SIGTERM, then SIGKILL after `graceMs`. */
async function stop(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const timer = sleep(graceMs, 'late' as const, { ref: false });
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'late') {
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await exited;
  }
}

/**
 * Starts Debian's redis-server on a free loopback port, nothing persisted (`--save ''`,
 * `--appendonly no`), in its own process group (a Ctrl-C reaches the bench, which stops it), and
 * waits until PING answers. Registered with `cleanup` (and its pid tracked) until closed; retries
 * once on another port if the chosen one was taken meanwhile.
 */
export async function startRedisServer(cleanup: BenchCleanup, o: RedisServerOptions): Promise<RedisServer> {
  const bin = findRedisServer();
  mkdirSync(o.dir, { recursive: true });
  const startTimeoutMs = o.startTimeoutMs ?? 15_000;
  const stopGraceMs = o.stopGraceMs ?? 3000;
  const wrapper = pdeathsig();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const port = (await findFreePorts(1))[0]!;
    const log = join(o.dir, `redis-${port}.log`);
    const fd = openSync(log, 'a');
    const args = [bin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', o.dir, '--daemonize', 'no'];
    let child: ChildProcess;
    try {
      const argv = [...wrapper, ...args];
      child = spawn(argv[0]!, argv.slice(1), { cwd: o.dir, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const untrack = child.pid === undefined ? () => false : cleanup.trackPid(child.pid);
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => (closed ??= stop(child, exited, stopGraceMs).finally(untrack));
    const unregister = cleanup.add(`redis-server :${port}`, close);
    const deadline = Date.now() + startTimeoutMs;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      if ((await redisCommand(port, ['PING'], 1000).catch(() => '')) === 'PONG') {
        up = true;
        break;
      }
      await sleep(50);
    }
    if (up) {
      const info = await redisCommand(port, ['INFO', 'server']);
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
      return {
        host: '127.0.0.1',
        port,
        pid: child.pid!,
        version,
        close: async () => {
          await close();
          unregister();
        },
      };
    }
    await close();
    unregister();
    lastError = new Error(`redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms (see ${log})`);
  }
  throw lastError!;
}
