import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';

/** One logger at level `warn` for every in-process worker, written to `file`. */
export interface WarnLog {
  logger: Logger;
  /** Flushes and closes the file. */
  close(): void;
}

export function openWarnLog(file: string): WarnLog {
  const destination = pino.destination({ dest: file, sync: false, mkdir: true });
  const logger = pino({ level: 'warn', timestamp: pino.stdTimeFunctions.isoTime }, destination);
  let closed = false;
  return {
    logger,
    close: () => {
      if (closed) return;
      closed = true;
      try {
        destination.flushSync();
      } catch {
        // not open yet: nothing was written
      }
      destination.end();
    },
  };
}

/** Number of lines per message in a (closed) pino log file, most frequent first; only lines logged in [`sinceMs`, `untilMs`] (epoch ms). */
export function countMessages(file: string, sinceMs = 0, untilMs = Number.POSITIVE_INFINITY): Array<{ msg: string; count: number }> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let msg = '(unparsable line)';
    try {
      const entry = JSON.parse(line) as { msg?: unknown; time?: unknown };
      const at = typeof entry.time === 'string' ? Date.parse(entry.time) : Number.NaN;
      if (at < sinceMs || at > untilMs) continue;
      msg = String(entry.msg ?? '(no msg)');
    } catch {
      // keep the placeholder
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return [...counts].map(([msg, count]) => ({ msg, count })).sort((a, b) => b.count - a.count);
}
