import type { Logger } from 'pino';
import type { JobContext, JobContextFacts } from './job-context.js';
import type { RunAbort } from './run-abort.js';
import type { RunStages } from './stage-store.js';

/** Where a context's logger comes from (made on first use: most attempts log nothing). */
export interface RunLogSource {
  log(): Logger;
}

/** What a run's context is made of, besides its collaborators. */
export type RunContextFields = JobContextFacts;

// The class below carries the facts as its own properties (assigned in the constructor).
export interface RunContext extends JobContextFacts {}

/**
 * The `JobContext` of one attempt. A class, so that its accessors live on the prototype: an object
 * literal with getters is built slowly, property by property, and a worker builds 2,000 contexts
 * per instant at 1,000 jobs × 8 items. `signal` is made on first read (`RunAbort`), `log` likewise.
 * Its own enumerable properties are its fields and `stage`.
 */
export class RunContext implements JobContext {
  readonly #abort: RunAbort;
  readonly #logs: RunLogSource;
  readonly #stages: RunStages;

  constructor(fields: RunContextFields, abort: RunAbort, logs: RunLogSource, stages: RunStages) {
    Object.assign(this, fields);
    this.#abort = abort;
    this.#logs = logs;
    this.#stages = stages;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get log(): Logger {
    return this.#logs.log();
  }

  /** An own property, as `signal` and `log` read through it: `const { stage } = ctx` keeps working. */
  readonly stage = <T>(name: string, fn: () => Promise<T> | T): Promise<T> => this.#stages.stage(name, fn);
}
