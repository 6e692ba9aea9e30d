import type { JobDefinition } from '../config/job-definition.js';
import { sameJson } from './json-codec.js';

/** What a job runs: its module handler or its script command (exactly one is set). */
export type JobCode = Pick<JobDefinition, 'handler' | 'command'>;

export function jobCode(def: JobCode): JobCode {
  return def.handler !== undefined ? { handler: def.handler } : def.command !== undefined ? { command: def.command } : {};
}

/** Whether two definitions name the same handler or command (argv compared entry by entry). */
export function sameCode(a: JobCode, b: JobCode): boolean {
  return sameJson(jobCode(a), jobCode(b));
}

/** `handler ./jobs/x.js` / `command ["./bin/x","--fast"]`, for logs and zkctl. */
export function formatCode(def: JobCode): string {
  if (def.handler !== undefined) return `handler ${def.handler}`;
  if (def.command !== undefined) return `command ${JSON.stringify(def.command)}`;
  return 'no handler or command';
}

/**
 * `def` with the handler or command of `code`. A worker runs a job by `withCode(stored, local)`:
 * ZooKeeper's schedule, sharding and policies with the code of its own file, so nothing stored in
 * ZooKeeper chooses the code a worker runs. `zkctl apply` writes `withCode(file, stored)`.
 */
export function withCode(def: JobDefinition, code: JobCode): JobDefinition {
  const { handler: _handler, command: _command, ...rest } = def;
  return { ...rest, ...jobCode(code) };
}
