import { sleepUnlessAborted } from '../lib/sleep-unless-aborted.js';

/**
 * Sleeps until `offsetMs` past a whole second (the first such instant at least `minMs` away) and
 * returns that instant (ms since the epoch). With every-second jobs, an offset of 300 lands while
 * the runs begun at the whole second still run; 950 lands just before the next fire.
 */
export async function untilPhase(offsetMs: number, signal: AbortSignal, minMs = 100): Promise<number> {
  const now = Date.now();
  let at = Math.floor(now / 1000) * 1000 + offsetMs;
  while (at - now < minMs) at += 1000;
  await sleepUnlessAborted(at - Date.now(), signal);
  return at;
}
