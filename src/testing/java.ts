import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ZkshardError } from '../errors/zkshard-error.js';

/** Where Debian's `libzookeeper-java` (pulled in by the `zookeeper` package) puts the server jar. */
export const DEBIAN_ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/**
 * The jar's manifest Class-Path brings slf4j-api but no binding, so the server would log nothing.
 * These Debian jars (dependencies of `libzookeeper-java`) route its logging to log4j 1.2, configured
 * by the `log4j.properties` each server writes into its own directory.
 */
const DEBIAN_LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];

/**
 * JVM options for a small, fast-starting test server: a capped heap, the serial collector, C1 only
 * (ZooKeeper under test load never needs C2), no perf-data file in /tmp, IPv4, and no admin HTTP server.
 */
export const DEFAULT_JVM_OPTIONS: readonly string[] = [
  '-Xms16m',
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.net.preferIPv4Stack=true',
  '-Dzookeeper.admin.enableServer=false',
  '-Dzookeeper.jmx.log4j.disable=true',
];

/** The classpath of the Debian package's server: its jar plus the logging binding, when present. */
export function defaultZooKeeperClasspath(): string[] {
  return [DEBIAN_ZOOKEEPER_JAR, ...DEBIAN_LOGGING_JARS.filter((jar) => existsSync(jar))];
}

/** The first executable file called `name` on `PATH`, or `undefined`. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The `java` to run: `explicit` when given, else `$JAVA_HOME/bin/java`, else `java` on `PATH`.
 * Throws a `JAVA_NOT_FOUND` error saying how to get one.
 */
export function findJava(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return explicit;
    throw new ZkshardError('JAVA_NOT_FOUND', `java executable ${explicit} does not exist or is not executable`);
  }
  const fromHome = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : undefined;
  if (fromHome !== undefined && isExecutableFile(fromHome)) return fromHome;
  const onPath = findExecutable('java', env);
  if (onPath !== undefined) return onPath;
  throw new ZkshardError(
    'JAVA_NOT_FOUND',
    'no java found ($JAVA_HOME/bin/java or java on PATH); a local ZooKeeper needs Java 11 or newer ' +
      '(Debian: apt-get install default-jre-headless, or run scripts/install-zookeeper.sh as root)',
  );
}
