import type { ZkSession } from './zk-session.js';
import { isConnectionTrouble } from './zk-errors.js';

/** How many connection drops `whenLive` sits through before it gives up. */
const WHEN_LIVE_TRIES = 10;

/**
 * Runs `inspect` once the session is usable, again after every further connection drop (bounded);
 * resolves undefined when the session ends first (its ephemeral nodes went with it). Any other
 * error of `inspect` is thrown.
 */
export async function whenLive<T>(zk: Pick<ZkSession, 'waitLive' | 'leaseMs'>, inspect: () => Promise<T>): Promise<T | undefined> {
  for (let tries = 0; tries < WHEN_LIVE_TRIES; tries++) {
    if (!(await zk.waitLive(zk.leaseMs))) return undefined;
    try {
      return await inspect();
    } catch (err) {
      if (!isConnectionTrouble(err)) throw err;
    }
  }
  return undefined;
}
