import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { HandlerError } from '../errors/handler-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { JobContext } from './job-context.js';
import type { RunStages } from './stage-store.js';

/** A script reports a completed stage by printing this prefix and the stage name on stdout. */
export const STAGE_DONE_PREFIX = 'zkshard:stage-done ';

export interface ScriptRunOptions {
  /** argv (run without a shell) or a string run by `/bin/sh -c`. */
  command: string[] | string;
  cwd: string;
  /** Time between SIGTERM and SIGKILL after an abort. @default 5000 */
  killGraceMs?: number;
  /**
   * The run's stages: the script gets the completed ones in `ZKSHARD_STAGES_DONE` (comma
   * separated) and records one by printing `zkshard:stage-done <name>` on stdout.
   */
  stages?: RunStages;
}

/** The environment a script job gets: the same facts as a module handler's context. */
export function scriptEnv(ctx: JobContext): Record<string, string> {
  return {
    ZKSHARD_JOB: ctx.job,
    ZKSHARD_ITEM: String(ctx.item),
    ZKSHARD_ITEM_PARAMETER: ctx.itemParameter ?? '',
    ZKSHARD_JOB_PARAMETER: ctx.jobParameter,
    ZKSHARD_SHARDS: String(ctx.shards),
    ZKSHARD_FIRE_TIME: ctx.fireTime.toISOString(),
    ZKSHARD_FIRE_ID: ctx.fireId,
    ZKSHARD_ATTEMPT: String(ctx.attempt),
    ZKSHARD_WORKER: ctx.workerId,
    ZKSHARD_FENCING_TOKEN: ctx.fencingToken,
  };
}

/**
 * Runs a script job for one item. Resolves on exit 0; rejects with a `ZkshardError`
 * (`SCRIPT_FAILED`) otherwise. On `ctx.signal` abort: SIGTERM to the script's process group,
 * SIGKILL after `killGraceMs`. Its output lines are logged with the run's bindings.
 */
export async function runScript(ctx: JobContext, options: ScriptRunOptions): Promise<void> {
  const [file, args] = typeof options.command === 'string' ? ['/bin/sh', ['-c', options.command]] : [options.command[0]!, options.command.slice(1)];
  const killGraceMs = options.killGraceMs ?? 5000;
  const stagesDone = options.stages ? (await options.stages.completed()).join(',') : '';
  const stageWrites: Array<Promise<void>> = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...scriptEnv(ctx), ZKSHARD_STAGES_DONE: stagesDone },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so an abort reaches its children too
    });
    const tail: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (options.stages && line.startsWith(STAGE_DONE_PREFIX)) {
        const name = line.slice(STAGE_DONE_PREFIX.length).trim();
        stageWrites.push(
          options.stages.complete(name).then(
            () => ctx.log.info({ stage: name }, 'stage completed'),
            (err: unknown) => {
              ctx.log.error({ err, stage: name }, 'could not record stage: stopping the script');
              signalGroup('SIGTERM');
              throw err;
            },
          ),
        );
      } else ctx.log.info({ stream: 'stdout' }, line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 5) tail.shift();
      ctx.log.warn({ stream: 'stderr' }, line);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const onAbort = () => {
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (err) => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(new HandlerError(`script ${JSON.stringify(file)} could not start: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (code === 0) resolve();
      else {
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        reject(new ZkshardError('SCRIPT_FAILED', `script ${how}${tail.length ? `: ${tail.join(' | ')}` : ''}`));
      }
    });
  });
  // The run succeeds only once every stage it reported is recorded.
  await Promise.all(stageWrites);
}
