import type { JobDefinition } from '../../src/config/job-definition.js';
import { waitFor } from '../../src/testing/wait-for.js';
import type { AssignmentObserver, AssignmentSnapshot } from './assignment-observer.js';
import { epochNow } from './run-recorder.js';

export interface SteadyOptions {
  observer: AssignmentObserver;
  defs: readonly JobDefinition[];
  /** Member names that must own every item, each at least one (read at every check). */
  members: () => ReadonlySet<string>;
  /** No assignment change seen for this long. */
  quietMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** What is awaited, for the timeout error. */
  what: string;
}

/**
 * Waits until every item of every job is owned by one of `members()`, every member owns some item,
 * and no assignment has changed for `quietMs`; returns the owners then.
 * @throws WaitForTimeoutError after `timeoutMs`; the signal's reason when it aborts.
 */
export async function waitSteady(opts: SteadyOptions): Promise<AssignmentSnapshot> {
  const steady = (): AssignmentSnapshot | undefined => {
    if (epochNow() - opts.observer.lastChangeAt < opts.quietMs) return undefined;
    const members = opts.members();
    const snapshot = opts.observer.snapshot();
    const used = new Set<string>();
    for (const def of opts.defs) {
      const owners = snapshot.get(def.name);
      if (!owners || owners.length !== def.shards) return undefined;
      for (const o of owners) {
        if (o === null || !members.has(o)) return undefined;
        used.add(o);
      }
    }
    return used.size === members.size ? snapshot : undefined;
  };
  return waitFor(steady, { timeoutMs: opts.timeoutMs, intervalMs: 50, signal: opts.signal, message: opts.what });
}
