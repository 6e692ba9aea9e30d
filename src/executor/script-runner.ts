import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { HandlerError } from '../errors/handler-error.js';
import { LeaseLostError } from '../errors/lease-lost-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { JobContext } from './job-context.js';
import type { RunStages } from './stage-store.js';

/** A script reports a completed stage by printing this prefix and the stage name on stdout. */
export const STAGE_DONE_PREFIX = 'zkshard:stage-done ';

/** Time between SIGTERM and SIGKILL when a script is stopped for another reason than lease loss. */
export const DEFAULT_KILL_GRACE_MS = 5000;
/** How often a script being stopped re-reads the lease: a lease can end suddenly (late watchdog, expiry). */
const LEASE_RECHECK_MS = 50;

export interface ScriptRunOptions {
  /** argv (run without a shell) or a string run by `/bin/sh -c`. */
  command: string[] | string;
  cwd: string;
  /**
   * Time between SIGTERM and SIGKILL after an abort other than lease loss (timeout, shutdown,
   * `overlap: replace`), cut short by the lease deadline. @default DEFAULT_KILL_GRACE_MS
   */
  killGraceMs?: number;
  /**
   * Milliseconds left of the worker's ZooKeeper lease (`ZkClient.leaseRemainingMs()`; 0 once it
   * is over). Nothing is spawned when it is 0, and a script being stopped is SIGKILLed no later
   * than when it reaches 0. Without it only an abort with `LeaseLostError` ends a script at once.
   */
  leaseRemainingMs?: () => number;
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
    ZKSHARD_STARTED_AT: ctx.startedAt.toISOString(),
  };
}

/**
 * Runs a script job for one item in its own process group. Resolves on exit 0; rejects with a
 * `ZkshardError` (`SCRIPT_FAILED`) otherwise, or `SCRIPT_NOT_STARTED` (nothing spawned) when
 * `ctx.signal` is already aborted or the lease is over. Nothing of the script outlives the lease:
 * an abort with `LeaseLostError` SIGKILLs the group at once; any other abort sends SIGTERM, then
 * SIGKILL after `killGraceMs` or at the lease deadline, whichever comes first. Whatever is left of
 * the group when a stopped script exits is SIGKILLed too. Output lines are logged with the run's bindings.
 */
export async function runScript(ctx: JobContext, options: ScriptRunOptions): Promise<void> {
  const [file, args] = typeof options.command === 'string' ? ['/bin/sh', ['-c', options.command]] : [options.command[0]!, options.command.slice(1)];
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const leaseRemainingMs = options.leaseRemainingMs ?? (() => Number.POSITIVE_INFINITY);
  const stagesDone = options.stages ? (await options.stages.completed()).join(',') : '';
  if (ctx.signal.aborted) {
    throw new ZkshardError('SCRIPT_NOT_STARTED', `script ${JSON.stringify(file)} not started: the run was aborted (${reasonText(ctx.signal.reason)})`, { cause: ctx.signal.reason });
  }
  if (leaseRemainingMs() <= 0) {
    throw new ZkshardError('SCRIPT_NOT_STARTED', `script ${JSON.stringify(file)} not started: the lease is over`);
  }
  const stageWrites: Array<Promise<void>> = [];
  const guard = parentDeathGuard();
  const [spawnFile, spawnArgs] = guard ? [guard, ['--pdeathsig', 'USR1', '--', '/bin/sh', '-c', GUARD_SCRIPT, 'zkshard-script', file, ...args]] : [file, args];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(spawnFile, spawnArgs, {
      cwd: options.cwd,
      env: { ...process.env, ...scriptEnv(ctx), ZKSHARD_STAGES_DONE: stagesDone },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so an abort reaches its children too
    });
    let exited = false;
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    };
    const kill = () => {
      if (killTimer) clearTimeout(killTimer);
      killTimer = undefined;
      signalGroup('SIGKILL');
    };
    const stop = (reason: unknown) => {
      if (stopping) {
        if (reason instanceof LeaseLostError) kill();
        return;
      }
      stopping = true;
      if (reason instanceof LeaseLostError) {
        kill(); // the lease is over already: no grace
        return;
      }
      signalGroup('SIGTERM');
      const killAt = performance.now() + killGraceMs;
      const check = () => {
        const leftMs = Math.min(killAt - performance.now(), leaseRemainingMs());
        if (leftMs <= 0) kill();
        else killTimer = setTimeout(check, Math.min(leftMs, LEASE_RECHECK_MS));
      };
      check();
    };
    const onAbort = () => stop(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const tail: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (options.stages && line.startsWith(STAGE_DONE_PREFIX)) {
        const name = line.slice(STAGE_DONE_PREFIX.length).trim();
        stageWrites.push(
          options.stages.complete(name).then(
            () => ctx.log.info({ stage: name }, 'stage completed'),
            (err: unknown) => {
              ctx.log.error({ err, stage: name }, 'could not record stage: stopping the script');
              if (!exited) stop(err);
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
    // A stopped script's leftovers (children that ignored SIGTERM) go with it.
    child.once('exit', () => {
      exited = true;
      if (stopping) kill();
    });

    child.once('error', (err) => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(new HandlerError(`script ${JSON.stringify(file)} could not start: ${err.message}`, { cause: err }));
    });
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      killTimer = undefined;
      if (code === 0) resolve();
      else {
        // Under the guard, a script killed by a signal shows as the guard's exit code 128 + n.
        const bySignal = signal ?? (guard && code !== null && code > 128 ? signalName(code - 128) : undefined);
        const how = bySignal ? `killed by ${bySignal}` : `exited with code ${code}`;
        reject(new ZkshardError('SCRIPT_FAILED', `script ${how}${tail.length ? `: ${tail.join(' | ')}` : ''}`));
      }
    });
  });
  // The run succeeds only once every stage it reported is recorded.
  await Promise.all(stageWrites);
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * The script's process group dies with the worker. Scripts run in their own process group (so
 * that an abort reaches their children), which also means nothing kills them when the worker
 * process itself is killed (SIGKILL, OOM): they would go on running while the item's next owner
 * runs the fire again. So the group is led by a small guard: `setpriv --pdeathsig USR1` has the
 * kernel signal it when the worker dies, and it then SIGKILLs the whole group. It ignores the
 * SIGTERM of an ordinary abort (the script gets it and its grace) and exits with the script's
 * status. Without `setpriv` (util-linux) scripts run unguarded, and the worker says so once.
 */
const GUARD_SCRIPT = `trap 'kill -KILL 0' USR1
trap ':' TERM
"$@" &
pid=$!
while :; do
  wait "$pid"; status=$?
  kill -0 "$pid" 2>/dev/null || exit "$status"
done`;

let guardPath: string | null | undefined;

function parentDeathGuard(): string | null {
  if (guardPath !== undefined) return guardPath;
  guardPath = process.platform === 'linux' ? (['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null) : null;
  if (guardPath === null) process.emitWarning('zkshard: setpriv (util-linux) not found: script jobs are not killed when the worker process dies', { code: 'ZKSHARD_NO_SETPRIV' });
  return guardPath;
}

function signalName(n: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as Array<[NodeJS.Signals, number]>).find(([, v]) => v === n)?.[0];
}
