import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { decodeMarker } from '../model/running-marker.js';

/** Whether member `member` still holds the item's running marker for the fire at `fireTime` (read now). */
export async function holdsMarker(zk: Pick<ZkSession, 'getDataIfExists'>, paths: ZkPaths, member: string, job: string, item: number, fireTime: Date): Promise<boolean> {
  const marker = decodeMarker((await zk.getDataIfExists(paths.running(job, item)))?.data);
  return marker?.member === member && marker.fireTime === fireTime.toISOString();
}
