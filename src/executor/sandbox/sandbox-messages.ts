import type { JobContextFacts } from '../job-context.js';

/**
 * The messages between a sandbox host (the worker's side) and the sandboxed handler's thread or
 * child process (`sandbox-child.ts`). Each run has an id; a stage round trip has a stage id.
 */

/** An error as it crosses the boundary: enough to rebuild a typed one on the other side. */
export interface ErrorShape {
  name: string;
  message: string;
  code?: string;
  /** `RunTimeoutError`'s limit. */
  timeoutMs?: number;
}

/** The facts of a run's context (everything of `JobContext` that is data). */
export type ContextFacts = JobContextFacts;

/** Worker → sandbox. */
export type ToSandbox =
  /** Run the default export of `file` (an absolute path) with these facts; log at `logLevel` and up. */
  | { t: 'run'; id: number; file: string; facts: ContextFacts; logLevel: string }
  /** The run's signal aborted in the worker: abort the handler's `ctx.signal` with this reason. */
  | { t: 'abort'; id: number; reason: ErrorShape }
  /** The stage is not done for this fire: run its function now. */
  | { t: 'stage-run'; id: number; stageId: number }
  /** The stage is recorded (just now, or by an earlier attempt): `result` is the recorded result. */
  | { t: 'stage-done'; id: number; stageId: number; result: unknown }
  /** The stage could not run or be recorded (bad name, fenced, its function threw). */
  | { t: 'stage-failed'; id: number; stageId: number; error: ErrorShape };

/** Sandbox → worker. */
export type FromSandbox =
  /** The sandbox loaded and listens. */
  | { t: 'ready' }
  /** One pino line (JSON) of the handler's `ctx.log`. */
  | { t: 'log'; id: number; line: string }
  /** The handler called `ctx.stage(name, fn)`. */
  | { t: 'stage'; id: number; stageId: number; name: string }
  /** The stage's function settled (its value made JSON-safe). */
  | { t: 'stage-result'; id: number; stageId: number; ok: true; value: unknown }
  | { t: 'stage-result'; id: number; stageId: number; ok: false; error: ErrorShape }
  /** The handler returned or threw. */
  | { t: 'done'; id: number; ok: true }
  | { t: 'done'; id: number; ok: false; error: ErrorShape };
