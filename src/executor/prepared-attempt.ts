import type { Logger } from 'pino';
import type { JobDefinition } from '../config/job-definition.js';
import type { RunOutcome } from '../model/progress-record.js';
import type { Clock } from '../clock/clock.js';
import { LeaseLostError } from '../errors/lease-lost-error.js';
import { ShutdownError } from '../errors/shutdown-error.js';
import { RunTimeoutError } from '../errors/run-timeout-error.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import type { JobHandler } from './job-context.js';
import type { HandlerLoader } from './handler-loader.js';
import { RunAbort } from './run-abort.js';
import { RunContext, type RunLogSource } from './run-context.js';
import type { RunStages } from './stage-store.js';
import { runScript } from './script-runner.js';

/** How one attempt ended. */
export interface AttemptResult {
  outcome: RunOutcome;
  error?: string;
}

/** An attempt made ready: `run()` enters its handler at once and settles with how it ended; `dispose()` drops one that will not run. */
export interface Attempt {
  run(): Promise<AttemptResult>;
  dispose(): void;
}

/** An attempt whose handler can be entered apart from waiting for its outcome (`PreparedAttempt`), with what it was made of. */
export interface EnterableAttempt extends Attempt {
  readonly def: JobDefinition;
  readonly token: string;
  readonly stages: RunStages;
  /** `atMs`: the entry time already read for the run (ms since the epoch); read now when not given. */
  enter(atMs?: number): unknown;
  outcome(entered: unknown): Promise<AttemptResult>;
}

/** What every attempt of one executor shares. */
export interface AttemptSetting {
  clock: Clock;
  /** The executor's logger: whether debug lines are wanted. */
  log: Logger;
  workerId: string;
  loader: Pick<HandlerLoader, 'resolvePath'>;
  /** Time between SIGTERM and SIGKILL for aborted scripts. */
  killGraceMs?: number;
  /** Milliseconds left of the session's lease (a script being stopped never outlives it). */
  leaseRemainingMs?: () => number;
}

/** The run an attempt belongs to. */
export interface AttemptOwner {
  readonly req: { job: string; item: number; fireTime: Date; reason: string };
  readonly fireId: string;
  /** The run's abort: the attempt's too, unless it can end on its own or be followed by another. */
  readonly abort: RunAbort;
  /** The run's logger (made on first use). */
  log(): Logger;
}

const SUCCESS: AttemptResult = Object.freeze({ outcome: 'success' });
const NOTHING_TO_DETACH = (): void => {};

/** The outcome an attempt aborted for `reason` ends with (`fallback` when the reason says none). */
export function outcomeOfAbort(reason: unknown, fallback: RunOutcome): RunOutcome {
  if (reason instanceof RunTimeoutError) return 'timeout';
  if (reason instanceof ShutdownError || reason instanceof LeaseLostError) return 'interrupted';
  if (reason instanceof ZkshardError && reason.code === 'REPLACED') return 'aborted';
  return fallback;
}

/** The attempt of a run whose job is not defined on this worker: it fails without running anything. */
export function undefinedJobAttempt(job: string): Attempt {
  const failed: AttemptResult = { outcome: 'failed', error: `job ${job} is not defined on this worker` };
  return { run: () => Promise.resolve(failed), dispose: NOTHING_TO_DETACH };
}

/**
 * One attempt of a run, made ready ahead of its instant: its context and abort, its handler loaded
 * (or the error loading it). An object rather than closures over the preparing call: a worker holds
 * one per run begun from its begin until its instant — 2,000 at once at 1,000 jobs × 8 items — and
 * what they hold is what a young-generation collection at the instant has to copy.
 */
export class PreparedAttempt implements EnterableAttempt, RunLogSource {
  readonly ctx: RunContext;
  private readonly controller: RunAbort;
  private readonly detach: () => void;
  private logger: Logger | undefined;

  constructor(
    private readonly setting: AttemptSetting,
    private readonly owner: AttemptOwner,
    readonly def: JobDefinition,
    readonly token: string,
    private readonly attempt: number,
    readonly stages: RunStages,
    private readonly handler: JobHandler | undefined,
    private readonly loadError: unknown,
  ) {
    // An attempt needs its own abort only when it can end on its own (timeout) or be followed by
    // another attempt; otherwise the run's is the attempt's. Either makes its signal only when the
    // handler (or a script, a sandbox) reads `ctx.signal`.
    const ownSignal = def.timeoutMs > 0 || def.retry.attempts > 1;
    const controller = ownSignal ? new RunAbort() : owner.abort;
    this.controller = controller;
    this.detach = ownSignal ? owner.abort.onAbort((reason) => controller.abort(reason)) : NOTHING_TO_DETACH;
    const { req } = owner;
    this.ctx = new RunContext(
      {
        job: req.job,
        item: req.item,
        itemParameter: def.itemParameters[String(req.item)],
        jobParameter: def.jobParameter,
        shards: def.shards,
        fireTime: req.fireTime,
        fireId: owner.fireId,
        attempt,
        workerId: setting.workerId,
        fencingToken: token,
      },
      controller,
      this,
      stages,
    );
  }

  /** The attempt's logger (made on first use: most attempts log nothing). */
  log(): Logger {
    return (this.logger ??= this.owner.log().child({ attempt: this.attempt }));
  }

  dispose(): void {
    this.detach();
  }

  /**
   * Calls the handler now and returns what it returned, once its synchronous part has run (a
   * script is started, a missing handler succeeds at once); a synchronous throw is returned as a
   * rejected promise. Nothing else is done here: at an instant the handlers of a batch are entered
   * one after another, and what is made for each between them (an async frame, an await, a timer)
   * fills the young generation — a collection it triggers stops the entries still to come. Its
   * outcome is then waited for with `outcome`.
   */
  enter(atMs?: number): unknown {
    const { setting, def } = this;
    this.ctx.entered(atMs ?? setting.clock.now());
    try {
      if (this.loadError !== undefined) return Promise.reject(this.loadError);
      if (this.handler) return this.handler(this.ctx);
      if (def.command !== undefined) {
        return runScript(this.ctx, { command: def.command, cwd: setting.loader.resolvePath('.'), killGraceMs: setting.killGraceMs, leaseRemainingMs: setting.leaseRemainingMs, stages: this.stages });
      }
      return undefined;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Settles with the outcome of the attempt `entered` (what `enter` returned); never rejects. Its
   * timeout counts from now: the handler was entered at most one batch's entries earlier.
   *
   * The usual attempt (no timeout, no debug line, a handler that returned a promise) is followed
   * through that promise alone: no async frame, which with its await was about a tenth of what a
   * worker allocates per run.
   */
  outcome(entered: unknown): Promise<AttemptResult> {
    if (this.def.timeoutMs > 0 || !(entered instanceof Promise) || this.setting.log.isLevelEnabled('debug')) return this.outcomeTimed(entered);
    return entered.then(
      () => {
        this.detach();
        return this.controller.aborted ? { outcome: outcomeOfAbort(this.controller.reason, 'failed') } : SUCCESS;
      },
      (err: unknown) => {
        this.detach();
        return this.failure(err);
      },
    );
  }

  /** `outcome`, with the attempt's timeout and its debug line. */
  private async outcomeTimed(entered: unknown): Promise<AttemptResult> {
    const { setting, def, controller } = this;
    if (setting.log.isLevelEnabled('debug')) this.log().debug({ reason: this.owner.req.reason, token: this.token }, 'run started');
    const timer = def.timeoutMs > 0 ? setting.clock.setTimeout(() => controller.abort(new RunTimeoutError(def.timeoutMs)), def.timeoutMs) : undefined;
    try {
      await entered;
      return controller.aborted ? { outcome: outcomeOfAbort(controller.reason, 'failed') } : SUCCESS;
    } catch (err) {
      return this.failure(err);
    } finally {
      if (timer) setting.clock.clearTimeout(timer);
      this.detach();
    }
  }

  /** Enters the handler at once (`enter`) and settles with the attempt's outcome; never rejects. */
  run(): Promise<AttemptResult> {
    return this.outcome(this.enter());
  }

  private failure(err: unknown): AttemptResult {
    const message = (err as Error)?.message ?? String(err);
    if (this.controller.aborted) return { outcome: outcomeOfAbort(this.controller.reason, 'failed'), error: message };
    this.log().warn({ err }, 'attempt failed');
    return { outcome: 'failed', error: message.slice(0, 500) };
  }
}
