import type { BenchFleet, BenchJob } from '../lib/bench-fleet.js';
import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';

/**
 * Waits until `workers` live members are registered and every job's items are spread over all of
 * them: each member owns at least ⌊shards / workers⌋ items of each job (what the sticky strategy
 * converges to). Stronger than `BenchFleet.waitSteady`, which is already true while a restarted or
 * undrained worker has not been given its share yet. Fails at once if a worker process exited.
 */
export async function waitBalanced(fleet: BenchFleet, jobs: readonly BenchJob[], workers: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const dead = fleet.ids.filter((id) => !fleet.alive(id));
    if (dead.length > 0) throw new Error(`worker ${dead.join(', ')} exited (see its log in the scenario directory)`);
    if (await balanced(fleet, jobs, workers).catch(() => false)) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for every job's items to be spread over ${workers} live workers`);
    await sleepUnlessAborted(200, signal);
  }
}

async function balanced(fleet: BenchFleet, jobs: readonly BenchJob[], workers: number): Promise<boolean> {
  const members = await fleet.memberNames();
  if (members.size < workers) return false;
  const names = [...members.values()];
  const all = await fleet.assignments();
  return jobs.every((j) => {
    const owners = all.get(j.name) ?? [];
    if (owners.length !== j.shards || owners.some((o) => o === null || !names.includes(o))) return false;
    const share = Math.floor(j.shards / workers);
    return names.every((m) => owners.filter((o) => o === m).length >= share);
  });
}
