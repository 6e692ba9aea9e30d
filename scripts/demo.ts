/**
 * `npm run demo [-- --duration <seconds>] [--screenshots <dir>]`: a local ZooKeeper, three workers running the jobs of
 * config/worker.yaml, the web console, and a live view of which worker runs which item. Ctrl-C (or the end of
 * --duration) stops the workers with SIGTERM, then ZooKeeper, and leaves no process behind.
 *
 * The fleet is secured (docs/SECURITY.md): credentials are generated for the run — a fleet, an
 * operator and a viewer identity — into .zkshard/demo/ (mode 600); the workers run a copy of
 * config/worker.yaml whose `zookeeper.auth` points at the fleet's file and whose `zookeeper.acl`
 * grants the operator and the viewer. Source `.zkshard/demo/ops.env` or `viewer.env` to use zkctl.
 *
 * The run history goes to a PostgreSQL found like ZooKeeper (`ZKSHARD_PG_URL`, else Debian's server
 * started in a scratch directory, stopped at the end): `zkctl runs` and `zkctl audit` read it.
 *
 * The web console runs too (`zkshard console`, as the operator identity) on loopback port 8080 (or
 * a free one), with one admin account whose password is made for this run and printed once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { digestId, ZkCredentials } from '../src/zk/zk-acl.js';
import { findZooKeeper } from '../src/testing/find-zookeeper.js';
import { findPostgres } from '../src/testing/find-postgres.js';
import pg from 'pg';
import { ZkClient } from '../src/zk/zk-client.js';
import { ZkPaths, sortBySequence } from '../src/zk/zk-paths.js';
import { FleetReader } from '../src/api/fleet-reader.js';
import { decodeMemberInfo } from '../src/membership/member-info.js';
import { hashPassword } from '../src/console/password-hash.js';
import { busyPorts, findFreePorts } from '../src/testing/free-port.js';
import { takeScreenshots } from './console-screenshots.js';

const REPO = resolve(import.meta.dirname, '..', '..');
let NAMESPACE = 'zkshard-demo';
const WORKERS = ['worker-a', 'worker-b', 'worker-c'];
const durationArg = process.argv.indexOf('--duration');
const durationS = durationArg > 0 ? Number(process.argv[durationArg + 1]) : 0;
const screenshotsArg = process.argv.indexOf('--screenshots');
const screenshotsDir = screenshotsArg > 0 ? process.argv[screenshotsArg + 1] : undefined;
if (durationArg > 0 && !(durationS > 0)) {
  process.stderr.write(`demo: --duration must be a positive number of seconds, got ${JSON.stringify(process.argv[durationArg + 1])}\n`);
  process.exit(2);
}

const logDir = join(REPO, '.zkshard', 'demo');
mkdirSync(logDir, { recursive: true });
process.stderr.write('demo: finding or starting ZooKeeper...\n');
const zkServer = await findZooKeeper();
process.stderr.write('demo: finding or starting PostgreSQL (run history)...\n');
const pgServer = await findPostgres().catch(async (err: unknown) => {
  await zkServer.close();
  throw err;
});
const children: ChildProcess[] = [];

// Credentials for this run only: a fleet, an operator and a viewer identity.
const secret = () => randomBytes(18).toString('base64url');
const identities = { fleet: secret(), ops: secret(), viewer: secret() };
const fleetAuthFile = join(logDir, 'fleet.auth');
writeFileSync(fleetAuthFile, `fleet:${identities.fleet}\n`, { mode: 0o600 });
// An earlier run's namespace on a shared ZooKeeper is secured with other passwords: use a new one.
const probe = new ZkClient({ connect: zkServer.connectString, sessionTimeoutMs: 6000 });
await probe.start();
if ((await probe.exists(`/${NAMESPACE}`)) !== null) NAMESPACE = `zkshard-demo-${randomBytes(3).toString('hex')}`;
await probe.close();
for (const who of ['ops', 'viewer'] as const) {
  const env = `export ZKSHARD_ZK=${zkServer.connectString} ZKSHARD_NAMESPACE=${NAMESPACE} ZKSHARD_ZK_AUTH=${who}:${identities[who]} ZKSHARD_PG_URL=${pgServer.url}\n`;
  writeFileSync(join(logDir, `${who}.env`), env, { mode: 0o600 });
}
// The workers' config: config/worker.yaml with the credentials file, the ACL policy and absolute handler paths.
const configDir = join(REPO, 'config');
const demoConfig = parse(readFileSync(join(configDir, 'worker.yaml'), 'utf8')) as { zookeeper?: Record<string, unknown>; history?: Record<string, unknown>; jobs?: Array<Record<string, unknown>> };
demoConfig.history = { ...demoConfig.history, postgresUrl: pgServer.url };
demoConfig.zookeeper = {
  ...demoConfig.zookeeper,
  auth: { scheme: 'digest', credentialsFile: fleetAuthFile },
  acl: [`digest:${digestId('ops', identities.ops)}:cdrwa`, `digest:${digestId('viewer', identities.viewer)}:r`],
};
for (const job of demoConfig.jobs ?? []) {
  if (typeof job.handler === 'string') job.handler = resolve(configDir, job.handler);
  if (Array.isArray(job.command) && typeof job.command[0] === 'string' && job.command[0].startsWith('.')) job.command[0] = resolve(configDir, job.command[0]);
}
const demoConfigFile = join(logDir, 'worker.yaml');
writeFileSync(demoConfigFile, stringify(demoConfig), { mode: 0o600 });
let stopping = false;

for (const id of WORKERS) {
  const out = createWriteStream(join(logDir, `${id}.log`));
  const child = spawn(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'zkshard.js'), 'worker', '--config', demoConfigFile, '--id', id, '--zk', zkServer.connectString, '--namespace', NAMESPACE], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: REPO,
    // Own process group: a terminal Ctrl-C reaches only the demo, which then stops the workers
    // with one SIGTERM each (a second signal would make a worker exit without draining).
    detached: true,
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`demo: ${id} exited (${signal ?? code})\n`);
  });
  children.push(child);
}

// The web console, as the operator identity, with a one-time admin password (printed below, stored only hashed).
const adminPassword = secret();
const usersFile = join(logDir, 'users.yaml');
writeFileSync(usersFile, stringify({ users: [{ name: 'admin', role: 'admin', passwordHash: await hashPassword(adminPassword) }] }), { mode: 0o600 });
const consolePort = (await busyPorts([8080])).length === 0 ? 8080 : (await findFreePorts(1))[0]!;
const consoleUrl = `http://127.0.0.1:${consolePort}/`;
const consoleOut = createWriteStream(join(logDir, 'console.log'));
const consoleChild = spawn(process.execPath, [join(REPO, 'dist', 'src', 'cli', 'zkshard.js'), 'console', '--zk', zkServer.connectString, '--namespace', NAMESPACE, '--listen', `127.0.0.1:${consolePort}`, '--users', usersFile], {
  stdio: ['ignore', 'pipe', 'pipe'],
  cwd: REPO,
  detached: true,
  env: { ...process.env, ZKSHARD_ZK_AUTH: `ops:${identities.ops}`, ZKSHARD_PG_URL: pgServer.url },
});
consoleChild.stdout!.pipe(consoleOut);
consoleChild.stderr!.pipe(consoleOut);
consoleChild.once('exit', (code, signal) => {
  if (!stopping) process.stderr.write(`demo: the console exited (${signal ?? code}); see .zkshard/demo/console.log\n`);
});
process.stderr.write(`demo: web console ${consoleUrl} — user admin, one-time password ${adminPassword}\n`);

const historyDb = new pg.Pool({ connectionString: pgServer.url, max: 1 });
historyDb.on('error', () => undefined);
const viewer = new ZkClient({ connect: zkServer.connectString, sessionTimeoutMs: 6000, credentials: new ZkCredentials('viewer', identities.viewer) });
await viewer.start();
const paths = new ZkPaths(NAMESPACE);

async function snapshot(): Promise<string> {
  const lines: string[] = [];
  const memberNames = sortBySequence(await viewer.getChildren(paths.workers).catch(() => [] as string[]));
  const ids = new Map<string, string>();
  for (const name of memberNames) {
    const info = decodeMemberInfo((await viewer.getDataIfExists(paths.member(name)))?.data ?? Buffer.alloc(0));
    if (info) ids.set(name, `${info.id}${info.state === 'draining' ? ' (draining)' : ''}`);
  }
  const leader = memberNames[0] ? ids.get(memberNames[0]) : undefined;
  lines.push(`zkshard demo — ZooKeeper ${zkServer.connectString} (${zkServer.kind}), namespace /${NAMESPACE}`);
  lines.push(`workers: ${[...ids.values()].join(', ') || '(none yet)'}    leader: ${leader ?? '-'}`);
  lines.push('');
  lines.push(pad('JOB', 16) + pad('ITEM', 6) + pad('PARAM', 12) + pad('OWNER', 12) + pad('RUNNING', 9) + pad('LAST FIRE', 26) + 'OUTCOME');
  const jobs = (await viewer.getChildren(paths.jobs).catch(() => [] as string[])).sort();
  // What zkctl job shows (runs in flight from the workers' ledgers).
  const reader = new FleetReader(viewer, paths);
  for (const job of jobs) {
    const view = await reader.job(job).catch(() => undefined);
    for (const it of view?.items ?? []) {
      lines.push(
        pad(job, 16) + pad(String(it.item), 6) + pad(it.parameter ?? '', 12) + pad(it.owner ?? '-', 12) +
          pad(it.running ? '●' : '', 9) + pad(it.lastFire ?? '', 26) + (it.lastOutcome ?? ''),
      );
    }
  }
  const runs = await historyDb.query<{ n: string }>('SELECT count(*) AS n FROM zkshard_runs').then((r) => r.rows[0]!.n, () => '-');
  lines.push('');
  lines.push(`history: ${runs} runs in PostgreSQL ${pgServer.url} (${pgServer.kind}) — try: (. .zkshard/demo/viewer.env; zkctl runs --since 5m)`);
  lines.push('secured: credentials for this run in .zkshard/demo/ (mode 600) — try: (. .zkshard/demo/viewer.env; zkctl acl audit), (. .zkshard/demo/ops.env; zkctl drain worker-a)');
  lines.push(`logs: .zkshard/demo/<worker>.log — try: kill -9 <pid of a worker> (pids: ${children.map((c, i) => `${WORKERS[i]}=${c.pid}`).join(' ')})`);
  lines.push(`console: ${consoleUrl} — user admin, password ${adminPassword} (this run only)`);
  lines.push(durationS > 0 ? `stopping after ${durationS} s` : 'Ctrl-C stops everything.');
  return lines.join('\n');
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s.slice(0, n - 1)} ` : s + ' '.repeat(n - s.length);
}

const tty = process.stdout.isTTY;
const view = setInterval(() => {
  void snapshot()
    .then((text) => process.stdout.write(tty ? `\x1b[2J\x1b[H${text}\n` : `${text}\n\n`))
    .catch(() => undefined);
}, tty ? 500 : 3000);

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(view);
  process.stderr.write('\ndemo: stopping workers (SIGTERM)...\n');
  await Promise.all(
    [...children, consoleChild].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          const force = setTimeout(() => c.kill('SIGKILL'), 15_000);
          c.once('exit', () => {
            clearTimeout(force);
            res();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  await viewer.close();
  await historyDb.end().catch(() => undefined);
  process.stderr.write('demo: stopping ZooKeeper and PostgreSQL...\n');
  await zkServer.close();
  await pgServer.close();
  process.stderr.write('demo: done, nothing left running.\n');
  process.exit(0);
}

// If the demo itself dies, take the workers with it.
process.on('exit', () => {
  for (const c of [...children, consoleChild]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (durationS > 0) setTimeout(() => void stop(), durationS * 1000);
// `--screenshots <dir>`: the console's pages as PNGs (docs/CONSOLE.md), once the fleet ran for 20 s.
if (screenshotsDir) {
  setTimeout(() => {
    takeScreenshots(consoleUrl, 'admin', adminPassword, resolve(screenshotsDir))
      .then((files) => process.stderr.write(`demo: screenshots ${files.join(', ')}\n`), (err: unknown) => process.stderr.write(`demo: screenshots failed: ${(err as Error).message}\n`));
  }, 20_000);
}
