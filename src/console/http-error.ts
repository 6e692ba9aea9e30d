import { ConfigError } from '../errors/config-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';

/** An answer the console gives with a status of its own (401, 403, 405, 429). */
export class HttpError extends ZkshardError {
  constructor(readonly status: number, code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(code, message);
  }
}

/** The HTTP status and JSON body of an error, as zkctl's exit codes map outcomes: 400, 403, 404, 409, 503, 504, 500. */
export function httpErrorOf(err: unknown): { status: number; body: { error: string; code: string; problems?: unknown[] } } {
  if (err instanceof HttpError) return { status: err.status, body: { error: err.message, code: err.code } };
  if (err instanceof ConfigError) return { status: 400, body: { error: err.message, code: err.code, problems: [...err.problems] } };
  if (err instanceof ZkshardError) {
    const status = ({
      REQUEST_INVALID: 400, USAGE: 400, CONFIG_INVALID: 400,
      NOT_FOUND: 404,
      REQUEST_CONFLICT: 409,
      NOT_AUTHORIZED: 403,
      ZK_UNAVAILABLE: 503, ZK_CONNECTION_LOSS: 503, ZK_CLOSED: 503, ZK_SESSION_EXPIRED: 503, HISTORY_UNAVAILABLE: 503,
      ZK_TIMEOUT: 504, REQUEST_TIMEOUT: 504,
    } as Record<string, number>)[err.code] ?? 500;
    const message = err.code === 'NOT_AUTHORIZED' ? `ZooKeeper refused the console's identity (ZKSHARD_ZK_AUTH): ${err.message}` : err.message;
    return { status, body: { error: message, code: err.code } };
  }
  const e = err as { statusCode?: number; message?: string; code?: string };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: `bad request: ${e.message ?? 'malformed'}`, code: e.code ?? 'REQUEST_INVALID' } };
  }
  return { status: 500, body: { error: 'internal error (see the console log)', code: 'INTERNAL' } };
}
