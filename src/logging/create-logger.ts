import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** @default 'info' (or `ZKSHARD_LOG_LEVEL`) */
  level?: string;
  /** Base bindings on every line, e.g. `{ worker: 'worker-a' }`. */
  base?: Record<string, unknown>;
  /** Where lines go. @default stdout */
  destination?: DestinationStream | number;
  /** `json`: one JSON object per line (for log agents); `pretty`: colored lines for people. @default 'json' */
  format?: 'json' | 'pretty';
}

/** The one root logger of a process. Components take `logger.child({ component })` from it. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.ZKSHARD_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...options.base },
    redact: { paths: ['auth', '*.auth', 'zookeeper.auth', 'password', '*.password'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const dest = options.destination ?? 1;
  if (options.format === 'pretty' && typeof dest === 'number') {
    return pino({ ...opts, transport: { target: 'pino-pretty', options: { destination: dest, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(opts, typeof dest === 'number' ? pino.destination({ fd: dest, sync: false }) : dest);
}

/** A logger that writes nothing; for tests and library users who bring no logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
