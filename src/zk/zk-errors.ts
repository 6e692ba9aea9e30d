import zookeeper from 'node-zookeeper-client';
import { ZkshardError } from '../errors/zkshard-error.js';

/**
 * Every ZooKeeper failure surfaces as a `ZkError` (or a subclass): the one place where the client
 * library's numeric codes become typed errors. Callers branch with `instanceof`, never on text.
 */
export class ZkError extends ZkshardError {
  /** ZooKeeper's numeric code (e.g. -101), when the server or client gave one. */
  readonly zkCode: number | undefined;
  /** The znode the failed operation was about. */
  readonly path: string | undefined;

  constructor(code: string, message: string, opts: { zkCode?: number; path?: string; cause?: unknown } = {}) {
    super(code, message, { cause: opts.cause });
    this.zkCode = opts.zkCode;
    this.path = opts.path;
  }
}

/** The node does not exist. */
export class NoNodeError extends ZkError {}
/** A node already exists at that path. */
export class NodeExistsError extends ZkError {}
/** The version given did not match the node's: someone else changed it first. */
export class BadVersionError extends ZkError {}
/** The node has children and cannot be deleted. */
export class NotEmptyError extends ZkError {}
/** The session is gone: its ephemeral nodes are deleted and it cannot be used again. */
export class SessionExpiredError extends ZkError {}
/** The connection dropped while the request was in flight; a write may or may not have happened. */
export class ConnectionLossError extends ZkError {}
/** No answer within the request timeout; a write may or may not have happened. */
export class ZkTimeoutError extends ZkError {}
/**
 * The connection dropped, or no answer came in time: the request may or may not have been
 * applied, and the session may well live on (ask again once it is usable).
 */
export function isConnectionTrouble(err: unknown): err is ConnectionLossError | ZkTimeoutError {
  return err instanceof ConnectionLossError || err instanceof ZkTimeoutError;
}
/** The client could not reach any ZooKeeper server in time. */
export class ZkUnavailableError extends ZkError {}
/** The client was closed (or its session declared lost) before or while the request ran. */
export class ZkClosedError extends ZkError {}
/**
 * A request larger than the client's `maxRequestBytes` (the ensemble's `jute.maxbuffer`): not sent,
 * since the server would drop the connection instead of answering. Code `ZK_REQUEST_TOO_LARGE`.
 */
export class RequestTooLargeError extends ZkError {}
/**
 * ZooKeeper refused the operation to this identity (NO_AUTH, -102), or the server requires
 * authentication and the session has none (-124). Code `NOT_AUTHORIZED` (exit 4). The message is
 * `not authorized: <user> may not <action> (<path>)`; it never carries a password.
 */
export class NotAuthorizedError extends ZkError {
  /** The user the session authenticated as (`anonymous` without credentials). */
  readonly user: string;
  /** What was refused, e.g. `read`, `create`, `write`. */
  readonly action: string;

  constructor(user: string, action: string, path: string | undefined, opts: { zkCode?: number; cause?: unknown; message?: string } = {}) {
    super('NOT_AUTHORIZED', opts.message ?? `not authorized: ${user} may not ${action}${path ? ` (${path})` : ''}`, { zkCode: opts.zkCode, path, cause: opts.cause });
    this.user = user;
    this.action = action;
  }
}

/** The `NotAuthorizedError` in `err`'s cause chain (a multi wraps it), if any. */
export function notAuthorizedIn(err: unknown): NotAuthorizedError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof NotAuthorizedError) return e;
  }
  return undefined;
}

/** The verb a refused operation is named by in `NotAuthorizedError`. */
const ACTIONS: Record<string, string> = {
  create: 'create', mkdirp: 'create', getData: 'read', exists: 'read', getChildren: 'list', setData: 'write',
  remove: 'delete', multi: 'write', getAcl: 'read the ACL of', setAcl: 'set the ACL of',
};

const CODE_NAMES: Record<number, string> = {
  [-1]: 'SYSTEM_ERROR', [-2]: 'RUNTIME_INCONSISTENCY', [-3]: 'DATA_INCONSISTENCY', [-4]: 'CONNECTION_LOSS',
  [-5]: 'MARSHALLING_ERROR', [-6]: 'UNIMPLEMENTED', [-7]: 'OPERATION_TIMEOUT', [-8]: 'BAD_ARGUMENTS',
  [-13]: 'NEW_CONFIG_NO_QUORUM', [-14]: 'RECONFIG_IN_PROGRESS', [-15]: 'UNKNOWN_SESSION',
  [-100]: 'API_ERROR', [-101]: 'NO_NODE', [-102]: 'NO_AUTH', [-103]: 'BAD_VERSION',
  [-108]: 'NO_CHILDREN_FOR_EPHEMERALS', [-110]: 'NODE_EXISTS', [-111]: 'NOT_EMPTY', [-112]: 'SESSION_EXPIRED',
  [-113]: 'INVALID_CALLBACK', [-114]: 'INVALID_ACL', [-115]: 'AUTH_FAILED', [-118]: 'SESSION_MOVED',
  [-119]: 'NOT_READ_ONLY', [-120]: 'EPHEMERAL_ON_LOCAL_SESSION', [-121]: 'NO_WATCHER',
  [-122]: 'REQUEST_TIMEOUT', [-123]: 'RECONFIG_DISABLED', [-124]: 'SESSION_CLOSED_REQUIRE_SASL_AUTH',
  [-125]: 'QUOTA_EXCEEDED', [-127]: 'THROTTLED_OP',
};

/** The symbolic name of a ZooKeeper error code, e.g. -101 → 'NO_NODE'. */
export function zkCodeName(zkCode: number): string {
  return CODE_NAMES[zkCode] ?? `UNKNOWN_${zkCode}`;
}

/**
 * Turns whatever the client library produced into a typed error.
 * @param op what we were doing, e.g. `create`; goes into the message.
 * @param user the session's user, named when ZooKeeper refuses the operation (NO_AUTH).
 */
export function mapZkError(err: unknown, op: string, path?: string, user = 'anonymous'): ZkError {
  if (err instanceof ZkError) return err;
  const zkCode = (err as { code?: unknown } | null)?.code;
  if (typeof zkCode !== 'number') {
    return new ZkError('ZK_ERROR', `zk: ${op}${path ? ` ${path}` : ''} failed: ${String((err as Error)?.message ?? err)}`, { path, cause: err });
  }
  const name = zkCodeName(zkCode);
  const message = `zk: ${op}${path ? ` ${path}` : ''} failed: ${name}[${zkCode}]`;
  const opts = { zkCode, path, cause: err };
  switch (zkCode) {
    case -101: return new NoNodeError('ZK_NO_NODE', message, opts);
    case -110: return new NodeExistsError('ZK_NODE_EXISTS', message, opts);
    case -103: return new BadVersionError('ZK_BAD_VERSION', message, opts);
    case -111: return new NotEmptyError('ZK_NOT_EMPTY', message, opts);
    case -112: return new SessionExpiredError('ZK_SESSION_EXPIRED', message, opts);
    case -4: return new ConnectionLossError('ZK_CONNECTION_LOSS', message, opts);
    case -7: case -122: return new ZkTimeoutError('ZK_TIMEOUT', message, opts);
    case -102: return new NotAuthorizedError(user, ACTIONS[op] ?? op, path, { zkCode, cause: err });
    case -115: case -124:
      return new NotAuthorizedError(user, ACTIONS[op] ?? op, path, {
        zkCode,
        cause: err,
        message: `not authorized: ZooKeeper refused the session of ${user} (${name}${user === 'anonymous' ? ': it requires credentials, set ZKSHARD_ZK_AUTH' : ''})`,
      });
    default: return new ZkError(`ZK_${name}`, message, opts);
  }
}

/**
 * `mapZkError` for an error that came with a reply (or a request that timed out), made without a
 * stack trace. It is made in the library's socket handler (or a timer), so a stack would name only
 * the library's frames, never the caller's; the message names the operation and the node. A
 * dropped connection fails every request queued on it at once: made with stacks, those errors cost
 * 8 µs each, and 50 workers on one event loop spent 36 of 450 s making them.
 */
export function mapZkReplyError(err: unknown, op: string, path?: string, user?: string): ZkError {
  return withoutStack(() => mapZkError(err, op, path, user));
}

/** What `make` returns, any error it makes made without a stack trace. */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

let patched = false;

/**
 * node-zookeeper-client throws from its socket handler on any error code it does not know
 * (ZooKeeper 3.5+ added several), which would crash the process. Its modules look
 * `Exception.create` up at call time, so we wrap it once: unknown codes become an exception
 * object carrying the real code, which `mapZkError` then names.
 *
 * The wrapper also makes them without a stack trace: the library makes one for every error reply
 * (every read of an absent node, thousands at a worker's start-up), inside its socket handler,
 * where the stack names only the library's own frames; capturing it cost about 10 KB of garbage
 * per reply. The typed error made from it has none either (`mapZkReplyError`).
 */
export function patchUnknownErrorCodes(): void {
  if (patched) return;
  patched = true;
  const exceptionModule = zookeeper.Exception as unknown as { create: (code: number, path?: string) => Error };
  const original = exceptionModule.create;
  exceptionModule.create = (code: number, path?: string): Error =>
    withoutStack(() => {
      try {
        return original(code, path);
      } catch {
        const e = original(-1, path) as Error & { code: number; name: string };
        e.code = code;
        e.name = zkCodeName(code);
        e.message = `Exception: ${e.name}[${code}]${path ? `@${path}` : ''}`;
        return e;
      }
    });
}
