import type { LedgerWriter } from './ledger-writer.js';

/**
 * Whether our own ledger in ZooKeeper holds each run in flight at its fire, read now (run protocol
 * v2: a run is held by its `f` bit; a forced remove or reshard clears the bit in the multi that
 * fences us, and our release clears it).
 */
export async function holdsRuns(ledger: Pick<LedgerWriter, 'readInFlight'>, runs: ReadonlyArray<{ job: string; item: number; fireTime: Date }>): Promise<boolean[]> {
  const flights = await ledger.readInFlight(runs);
  return runs.map((r, k) => flights[k]?.fireMs === r.fireTime.getTime());
}
