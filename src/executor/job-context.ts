import type { Logger } from 'pino';

/** What a handler gets for one run of one item. */
export interface JobContext {
  /** Job name. */
  readonly job: string;
  /** This run's shard item, 0..shards-1. */
  readonly item: number;
  /** The item's parameter (`itemParameters`), if any. */
  readonly itemParameter: string | undefined;
  /** The job's parameter ('' when none). */
  readonly jobParameter: string;
  /** Number of items of the job. */
  readonly shards: number;
  /** The scheduled fire time this run belongs to. */
  readonly fireTime: Date;
  /** `<job>@<ISO fire time>#<item>`: the same for every attempt of this fire. */
  readonly fireId: string;
  /** 1 for the first attempt; grows with retries and with a re-run after failover. */
  readonly attempt: number;
  /** The worker id running it. */
  readonly workerId: string;
  /**
   * When this worker entered the handler, its lease checked just before. The handler's own first
   * reading of the clock can come later (a process frozen or starved right after the entry).
   */
  readonly startedAt: Date;
  /**
   * Grows with every run of this item (the zxid of the ZooKeeper write that started it), so with
   * every change of owner. Compare as a 64-bit integer: a store that has seen a larger token for
   * this item must refuse the write.
   */
  readonly fencingToken: string;
  /** Aborted on timeout, shutdown past the grace period, lease loss, or `overlap: replace`. */
  readonly signal: AbortSignal;
  /** Logger bound to job, item, fire id and attempt. */
  readonly log: Logger;
  /**
   * Runs `fn` at most once to completion per fire: if this fire already completed the stage (in
   * an earlier attempt, on this or another worker), `fn` is skipped and its recorded result
   * (JSON) is returned.
   */
  stage<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
}

/** Everything of a `JobContext` that is data (what a sandbox is sent, what a `RunContext` is built from). */
export type JobContextFacts = Omit<JobContext, 'signal' | 'log' | 'stage'>;

/** A module handler: the default export of a job module. */
export type JobHandler = (ctx: JobContext) => Promise<unknown> | unknown;

const HANDLER = Symbol.for('zkshard.handler');

/** A handler wrapped by `defineJob`. */
export interface DefinedJob {
  readonly [HANDLER]: JobHandler;
}

/**
 * Declares a job handler (default-export its result). A plain async function as default export
 * works too; `defineJob` gives it types.
 */
export function defineJob(handler: JobHandler): DefinedJob & JobHandler {
  const wrapped = ((ctx: JobContext) => handler(ctx)) as DefinedJob & JobHandler;
  Object.defineProperty(wrapped, HANDLER, { value: handler });
  return wrapped;
}

/** Extracts the handler from a module's default export, or undefined if it is not one. */
export function toHandler(value: unknown): JobHandler | undefined {
  if (typeof value === 'function') return value as JobHandler;
  const inner = (value as Partial<DefinedJob> | null)?.[HANDLER];
  return typeof inner === 'function' ? inner : undefined;
}

/** `<job>@<ISO fire time>#<item>` */
export function fireIdOf(job: string, fireTime: Date, item: number): string {
  const ms = fireTime.getTime();
  if (ms !== lastIso.ms) {
    lastIso.iso = fireTime.toISOString();
    lastIso.ms = ms;
  }
  return `${job}@${lastIso.iso}#${item}`;
}

/** The fire time last written out by `fireIdOf`: the runs of one instant, begun together, share its string. */
const lastIso = { ms: Number.NaN, iso: '' };
