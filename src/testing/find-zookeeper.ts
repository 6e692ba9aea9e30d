import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dockerEndpoints, isDockerReachable } from './docker-engine.js';
import { serverMode } from '../zk/four-letter-word.js';
import { DEBIAN_ZOOKEEPER_JAR, findExecutable, findJava } from './java.js';
import { waitFor } from './wait-for.js';
import { ZooKeeperNotFoundError } from './zookeeper-errors.js';
import { ZooKeeperServer, type ZooKeeperServerOptions } from './zookeeper-server.js';

/** Where the ZooKeeper came from: an env var, a testcontainers container, or a local JVM. */
export type ZooKeeperSourceKind = 'env' | 'container' | 'local';

/** A ZooKeeper to use; `close()` stops it if `findZooKeeper` started it (a no-op for `env`). */
export interface FoundZooKeeper {
  readonly connectString: string;
  readonly kind: ZooKeeperSourceKind;
  close(): Promise<void>;
}

export interface FindZooKeeperOptions {
  /** Where `ZKSHARD_ZK`, `ZK_CONNECT` and `DOCKER_HOST` are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Use a container when a Docker engine answers (`'auto'`), never (`false`), or insist (`true`). @default 'auto' */
  docker?: boolean | 'auto';
  /** Image of the container. @default 'zookeeper:3.9' */
  image?: string;
  /** How long the Docker engine probe may take. @default 1500 */
  dockerProbeTimeoutMs?: number;
  /** Run `scripts/install-zookeeper.sh` when the Debian package (or java) is missing and we are root. @default true */
  install?: boolean;
  /** Options of the local server. @default {} (free port, temp dir, tickTime 500) */
  server?: ZooKeeperServerOptions;
  /** Progress and fallback notes (installing, container failed...). @default one line each to stderr */
  log?: (message: string) => void;
}

/** The image the container path runs. */
export const ZOOKEEPER_IMAGE = 'zookeeper:3.9';

/**
 * Finds a ZooKeeper for tests, the demo and benchmarks, in this order (PRODUCT §6):
 * 1. `ZKSHARD_ZK` or `ZK_CONNECT`, if set: used as is; `close()` does nothing;
 * 2. a `zookeeper:3.9` container through testcontainers, if a Docker engine answers;
 * 3. a local standalone server from the Debian package's jar ({@link ZooKeeperServer}), installing
 *    the package with `scripts/install-zookeeper.sh` first when it is missing and we are root;
 * 4. else a {@link ZooKeeperNotFoundError} saying how to get one.
 */
export async function findZooKeeper(options: FindZooKeeperOptions = {}): Promise<FoundZooKeeper> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((message: string) => process.stderr.write(`zkshard: ${message}\n`));

  const fromEnv = [env.ZKSHARD_ZK, env.ZK_CONNECT].map((v) => v?.trim()).find((v) => v !== undefined && v !== '');
  if (fromEnv !== undefined) return { connectString: fromEnv, kind: 'env', close: async () => undefined };

  const docker = options.docker ?? 'auto';
  let dockerNote = 'Docker not tried (docker: false)';
  if (docker !== false) {
    const reachable = await isDockerReachable({ env, timeoutMs: options.dockerProbeTimeoutMs ?? 1500 });
    if (reachable) {
      try {
        return await startContainer(options.image ?? ZOOKEEPER_IMAGE, env);
      } catch (err) {
        if (docker === true) throw err;
        dockerNote = `a Docker engine answered but the container failed: ${(err as Error).message}`;
        log(`${dockerNote}; falling back to a local ZooKeeper server`);
      }
    } else {
      dockerNote = 'no Docker engine answered (DOCKER_HOST or the usual docker.sock)';
      if (docker === true) throw new ZooKeeperNotFoundError(`findZooKeeper({ docker: true }): ${dockerNote}`);
    }
  }

  const missing = localPrerequisitesMissing(options.server);
  if (missing.length > 0) {
    const why = `${missing.join(' and ')} missing`;
    const installer = installPossible();
    if (options.install === false || typeof installer === 'string') {
      throw new ZooKeeperNotFoundError(
        [
          'No ZooKeeper available for zkshard.',
          `  - ZKSHARD_ZK / ZK_CONNECT: not set`,
          `  - container: ${dockerNote}`,
          `  - local server: ${why}; ${options.install === false ? 'installing is turned off' : `cannot install: ${installer as string}`}`,
          'Get one by either:',
          '  - pointing at a running ZooKeeper: ZKSHARD_ZK=host:2181',
          '  - installing the Debian package as root: sudo sh scripts/install-zookeeper.sh (apt-get install zookeeper)',
          '  - starting a Docker engine, so a zookeeper:3.9 container is used',
        ].join('\n'),
      );
    }
    log(`local ZooKeeper: ${why}; installing with ${installer.script} (apt-get, may take a few minutes)`);
    await runInstallScript(installer.script);
    const still = localPrerequisitesMissing(options.server);
    if (still.length > 0) throw new ZooKeeperNotFoundError(`${installer.script} finished but ${still.join(' and ')} still missing`);
    log('local ZooKeeper: installed');
  }

  const server = new ZooKeeperServer(options.server);
  try {
    await server.start();
  } catch (err) {
    await server.close();
    throw err;
  }
  return { connectString: server.connectString, kind: 'local', close: () => server.close() };
}

function localPrerequisitesMissing(server: ZooKeeperServerOptions | undefined): string[] {
  const missing: string[] = [];
  if (server?.classpath === undefined && !existsSync(DEBIAN_ZOOKEEPER_JAR)) missing.push(DEBIAN_ZOOKEEPER_JAR);
  try {
    findJava(server?.java);
  } catch {
    missing.push('java');
  }
  return missing;
}

/** The install script when we can run it, else the reason we cannot. */
function installPossible(): { script: string } | string {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (findExecutable('apt-get') === undefined) return 'no apt-get on PATH (not a Debian-like system)';
  const script = findInstallScript();
  if (script === undefined) return 'scripts/install-zookeeper.sh not found next to this package';
  return { script };
}

/** `scripts/install-zookeeper.sh` of the repository or package this module belongs to. */
export function findInstallScript(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scripts', 'install-zookeeper.sh');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function runInstallScript(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new ZooKeeperNotFoundError(`cannot run ${script}: ${err.message}`, { cause: err })));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new ZooKeeperNotFoundError(`${script} failed (exit ${code ?? signal}):\n${output.trim()}`));
    });
  });
}

/**
 * Starts a `zookeeper` container with its client port published (on 127.0.0.1 when the engine is
 * local) and waits until it serves. testcontainers is imported here only, so it is loaded only
 * when a Docker engine answered.
 */
async function startContainer(image: string, env: NodeJS.ProcessEnv): Promise<FoundZooKeeper> {
  let tc: typeof import('testcontainers');
  try {
    tc = await import('testcontainers');
  } catch (err) {
    // testcontainers 12 loads undici 8, which needs Node >= 22.19; it fails to load on Node 20.
    throw new Error(`cannot load testcontainers on Node ${process.version}: ${(err as Error).message}`, { cause: err });
  }
  const localEngine = dockerEndpoints(env).every((e) => e.kind === 'socket') && !env.TESTCONTAINERS_HOST_OVERRIDE;

  class ZooKeeperContainer extends tc.GenericContainer {
    protected override async beforeContainerCreated(): Promise<void> {
      if (!localEngine) return;
      // testcontainers publishes on every interface; a local engine can keep it on loopback.
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as Array<{ HostIp?: string }>) binding.HostIp = '127.0.0.1';
      }
    }
  }

  const container = await new ZooKeeperContainer(image)
    .withExposedPorts(2181)
    .withEnvironment({
      ZOO_4LW_COMMANDS_WHITELIST: '*',
      ZOO_ADMINSERVER_ENABLED: 'false',
      ZOO_TICK_TIME: '500',
      ZOO_CFG_EXTRA: 'minSessionTimeout=1000 maxSessionTimeout=60000',
    })
    .withStartupTimeout(120_000)
    .start();
  try {
    const host = localEngine ? '127.0.0.1' : container.getHost();
    const port = container.getMappedPort(2181);
    await waitFor(async () => (await serverMode(host, port)) === 'standalone', {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `container ${image} at ${host}:${port} to serve`,
    });
    return { connectString: `${host}:${port}`, kind: 'container', close: async () => void (await container.stop()) };
  } catch (err) {
    await container.stop().catch(() => undefined);
    throw err;
  }
}
