import type { BenchFleet } from '../lib/bench-fleet.js';
import { readMembers } from '../../src/membership/read-members.js';

/**
 * The worker to SIGKILL for kill `k`: even kills take a non-leader (in turn), odd kills the
 * leader (the lowest member sequence).
 */
export async function pickVictim(fleet: BenchFleet, k: number): Promise<string> {
  const members = await readMembers(fleet.zk, fleet.paths);
  const ids = members.map((m) => m.info.id).filter((id) => fleet.alive(id));
  if (ids.length < 2) throw new Error('fewer than 2 live workers to pick a victim among');
  if (k % 2 === 1) return ids[0]!;
  const others = ids.slice(1).sort();
  return others[(k / 2) % others.length]!;
}
