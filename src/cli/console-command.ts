import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../logging/create-logger.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { readUsersFile } from '../console/users-file.js';
import { hashPassword } from '../console/password-hash.js';
import { credentialsFromEnv, globalsOf, tlsFromEnv, DEFAULT_CONNECT, DEFAULT_NAMESPACE } from './zkctl-context.js';
import { pgOption, pgUrlOf } from './pg-option.js';
import { EXIT } from './exit-codes.js';

/** The console's default address: loopback only. */
export const DEFAULT_LISTEN = '127.0.0.1:8080';

/** `host:port` (`[v6]:port`; a bare port means loopback). */
export function parseListen(value: string): { host: string; port: number } {
  const v = value.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(v) ?? (/^\d{1,5}$/.test(v) ? [v, undefined, '', v] : null);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidArgumentError(`--listen must be host:port (e.g. 127.0.0.1:8080), got ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ZkshardError('USAGE', `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads all of stdin (a password, one line; the trailing newline is dropped). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `zkshard console ...` and `zkshard console hash-password`. */
export function makeConsoleCommand(): Command {
  const console = new Command('console')
    .description('the web console: see and drive the fleet from a browser (docs/CONSOLE.md)')
    .addOption(new Option('--zk <connect>', 'ZooKeeper connection string').env('ZKSHARD_ZK').default(DEFAULT_CONNECT))
    .addOption(new Option('--namespace <ns>', 'root znode of the fleet').env('ZKSHARD_NAMESPACE').default(DEFAULT_NAMESPACE))
    .option('--listen <host:port>', 'address to serve on (loopback unless told otherwise)', parseListen, parseListen(DEFAULT_LISTEN))
    .option('--users <file>', 'users file: users: [{ name, role: viewer|operator|admin, passwordHash }] (required: there is no default account)')
    .option('--read-only', 'refuse every action (405); reads and events only', false)
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .addOption(pgOption())
    .option('--log-format <format>', 'json (default) or pretty')
    .action(async (opts: { listen: { host: string; port: number }; users?: string; readOnly: boolean; tlsCert?: string; tlsKey?: string; logFormat?: 'json' | 'pretty' }, cmd: Command) => {
      if (!opts.users) throw new ZkshardError('USAGE', '--users <file> is required: the console has no default account (make a passwordHash with: zkshard console hash-password)');
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new ZkshardError('USAGE', '--tls-cert and --tls-key go together');
      const globals = globalsOf(cmd);
      const users = await readUsersFile(opts.users);
      const tls = opts.tlsCert && opts.tlsKey ? { cert: readPem(opts.tlsCert, '--tls-cert'), key: readPem(opts.tlsKey, '--tls-key') } : undefined;
      const logger = createLogger({ format: opts.logFormat, base: { component: 'console' } });
      // Loaded here, not with the CLI: a worker process (`zkshard worker`) never loads the console's server.
      const { ConsoleApp } = await import('../console/console-app.js');
      const app = new ConsoleApp({
        connect: globals.zk, namespace: globals.namespace, users, logger,
        host: opts.listen.host, port: opts.listen.port,
        credentials: credentialsFromEnv(), zkTls: tlsFromEnv(), pgUrl: pgUrlOf(cmd),
        readOnly: opts.readOnly, tls,
      });
      const loopback = /^(127\.|::1$|localhost$)/.test(opts.listen.host);
      if (!loopback && !tls) logger.warn({ host: opts.listen.host }, 'listening beyond loopback without TLS: passwords and cookies cross the network in clear (use --tls-cert/--tls-key or a TLS proxy)');
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(EXIT.FAILED);
        stopping = true;
        logger.info({ signal }, 'console stopping');
        void app.close().then(() => logger.flush(() => process.exit(EXIT.OK)));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      const url = await app.start();
      process.stderr.write(`zkshard console: ${url}/\n`);
    });
  console.addCommand(
    new Command('hash-password')
      .description('read a password on stdin, print its salted scrypt hash for a users file')
      .action(async () => {
        const password = await readStdin();
        if (password.length < 8) throw new ZkshardError('USAGE', 'password too short: at least 8 characters');
        process.stdout.write(`${await hashPassword(password)}\n`);
      }),
  );
  return console;
}
