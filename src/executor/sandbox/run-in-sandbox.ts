import { pino, type Level } from 'pino';
import { SandboxError } from '../../errors/sandbox-error.js';
import { ZkshardError } from '../../errors/zkshard-error.js';
import type { JobContext } from '../job-context.js';
import { fromErrorShape, toErrorShape } from './sandbox-error-shape.js';
import type { SandboxHost } from './sandbox-host.js';
import type { FromSandbox } from './sandbox-messages.js';

export interface SandboxRunOptions {
  /** The run's id within its host. */
  id: number;
  /** Absolute path of the handler module. */
  file: string;
  /** Level from which the handler's `ctx.log` lines are sent back (the run logger's). */
  logLevel: string;
  /** After an abort (other than lease loss), how long the handler may take to end before it is killed. */
  abortGraceMs: number;
  /** Milliseconds left of the lease: the grace never runs past it. @default unbounded */
  leaseRemainingMs?: () => number;
}

/**
 * Runs one attempt of a module handler in `host` with `ctx` (the worker's context of the
 * attempt): resolves when the handler returns, rejects with its error when it throws or with a
 * `SandboxError` when its thread or process dies. When `ctx.signal` aborts, the handler's own
 * signal aborts with the same reason and it gets `abortGraceMs` (never past the lease) to end
 * before the host is killed; on `LEASE_LOST` the host is killed at once. Settles only once the handler is done or
 * its host is gone: nothing of the attempt outlives it.
 */
export function runInSandbox(host: SandboxHost, ctx: JobContext, opts: SandboxRunOptions): Promise<void> {
  const { id } = opts;
  return new Promise<void>((resolve, reject) => {
    const stageFns = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
    let graceTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      host.off('message', onMessage);
      host.off('exit', onExit);
      ctx.signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      for (const fn of stageFns.values()) fn.reject(new SandboxError('SANDBOX_KILLED', 'the run ended before its stage was recorded'));
      if (err) reject(err);
      else resolve();
    };
    const onMessage = (msg: FromSandbox): void => {
      if (msg.t === 'ready' || msg.id !== id) return;
      switch (msg.t) {
        case 'log':
          forwardLog(ctx, msg.line);
          break;
        case 'stage':
          runStage(msg.stageId, msg.name);
          break;
        case 'stage-result': {
          const fn = stageFns.get(msg.stageId);
          stageFns.delete(msg.stageId);
          if (msg.ok) fn?.resolve(msg.value);
          else fn?.reject(fromErrorShape(msg.error));
          break;
        }
        case 'done':
          finish(msg.ok ? undefined : fromErrorShape(msg.error));
      }
    };
    // The stage store is the worker's: it decides whether the stage runs and records it before the
    // handler goes on.
    const runStage = (stageId: number, name: string): void => {
      ctx
        .stage(name, () => new Promise<unknown>((res, rej) => {
          stageFns.set(stageId, { resolve: res, reject: rej });
          host.send({ t: 'stage-run', id, stageId });
        }))
        .then(
          (result) => host.send({ t: 'stage-done', id, stageId, result }),
          (err: unknown) => host.send({ t: 'stage-failed', id, stageId, error: toErrorShape(err) }),
        );
    };
    const onExit = (why: string): void => {
      const reason: unknown = ctx.signal.reason;
      if (ctx.signal.aborted) finish(new SandboxError('SANDBOX_KILLED', `sandboxed handler ended after abort (${(reason as Error)?.message ?? String(reason)}): ${why}`, { cause: reason }));
      else finish(new SandboxError('SANDBOX_CRASHED', `sandboxed handler's ${why}`));
    };
    const onAbort = (): void => {
      const reason: unknown = ctx.signal.reason;
      if (reason instanceof ZkshardError && reason.code === 'LEASE_LOST') {
        host.kill(); // another worker may own the item soon: nothing of this run may go on
        return;
      }
      host.send({ t: 'abort', id, reason: toErrorShape(reason) });
      // A lease lost during the grace aborts nothing more (the signal already aborted): bound it.
      const graceMs = Math.max(0, Math.min(opts.abortGraceMs, opts.leaseRemainingMs?.() ?? Infinity));
      graceTimer = setTimeout(() => host.kill(), graceMs);
    };

    host.on('message', onMessage);
    host.once('exit', onExit);
    if (!host.alive) return onExit(host.exitedBecause ?? 'sandbox gone');
    const { job, item, itemParameter, jobParameter, shards, fireTime, fireId, attempt, workerId, fencingToken, startedAt } = ctx;
    host.send({ t: 'run', id, file: opts.file, logLevel: opts.logLevel, facts: { job, item, itemParameter, jobParameter, shards, fireTime, fireId, attempt, workerId, fencingToken, startedAt } });
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A pino line of the handler's logger, logged again by the run's logger (with the run's bindings). */
function forwardLog(ctx: JobContext, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, ...fields } = entry;
  const label = (typeof level === 'number' ? pino.levels.labels[level] : undefined) ?? 'info';
  ctx.log[label as Level](fields, typeof msg === 'string' ? msg : '');
}
