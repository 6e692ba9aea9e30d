import { HandlerLoader } from '../executor/handler-loader.js';
import type { JobContext, JobHandler } from '../executor/job-context.js';
import { sleep, type Clock } from '../clock/clock.js';

/** How a simulated handler behaves: how long it works, and whether it honours `ctx.signal`. */
export interface SimHandlerBehaviour {
  /** How long this run works, ms (drawn by the caller from the seed). */
  durationMs(ctx: JobContext): number;
  /** A stuck handler: it ignores `ctx.signal` and works its whole duration. @default false */
  ignoresSignal?: boolean;
  /** Whether this attempt fails (throws) once it has worked its duration. @default never */
  fails?(ctx: JobContext): boolean;
  /** Told when the handler is entered and when it returns (`aborted`: it stopped on the signal). */
  entered(ctx: JobContext): void;
  left(ctx: JobContext, aborted: boolean): void;
}

/**
 * The executor's handler loader in the simulation: every job's handler works for a seeded
 * duration on the simulated process's clock, and stops when `ctx.signal` aborts (unless it is
 * made to ignore it). Nothing is imported.
 */
export class SimHandlerLoader extends HandlerLoader {
  constructor(
    private readonly clock: Clock,
    private readonly behaviour: (job: string) => SimHandlerBehaviour,
  ) {
    super('/sim');
  }

  /** The one handler of every job (what it does is the job's `behaviour`). */
  private readonly handler: JobHandler = async (ctx: JobContext) => {
    const b = this.behaviour(ctx.job);
    b.entered(ctx);
    let aborted = false;
    try {
      await sleep(this.clock, b.durationMs(ctx), { signal: b.ignoresSignal ? undefined : ctx.signal });
    } catch {
      aborted = true;
    }
    b.left(ctx, aborted);
    if (aborted) throw ctx.signal.reason;
    if (b.fails?.(ctx)) throw new Error('simulated handler failure');
  };

  override load(handler: string): Promise<JobHandler> {
    void handler;
    return Promise.resolve(this.handler);
  }

  /**
   * Loaded from the start, as a worker's handlers are once their first run loaded them: the
   * executor makes runs ready at their begin and enters them in its gate's loop, as it does in
   * production (before 2026-12-06 the simulation's runs all took the path of a handler still loading).
   */
  override loaded(handler: string): JobHandler | undefined {
    void handler;
    return this.handler;
  }
}
