import type { Logger } from 'pino';
import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import { decodeJson, encodeJson } from '../model/json-codec.js';

/** What `/controls` holds once the controls of run protocol 1 were carried over. */
const MIGRATED = { controlsFrom: 'protocol 1' };
/** Old control nodes read at once. */
const READS_AT_ONCE = 512;

/**
 * Carries the jobs' controls of run protocol 1 (`/jobs/<job>/control`) over to `/controls/<job>`,
 * once per namespace: a job an operator disabled before an upgrade stays disabled after it. Done
 * by a leader before its first pass; `/controls` records that it was done (a leader that stopped
 * half-way is followed by one that does it again: a control already under `/controls` is never
 * written over). The old nodes are left where they are, read by nothing.
 */
export async function migrateControls(zk: ZkSession, paths: ZkPaths, log: Logger): Promise<number> {
  const marker = await zk.getDataIfExists(paths.controls);
  if (marker && decodeJson<typeof MIGRATED>(marker.data)?.controlsFrom === MIGRATED.controlsFrom) return 0;
  const jobs = await childrenIfExists(zk, paths.jobs);
  await zk.mkdirp(paths.controls);
  let carried = 0;
  for (let i = 0; i < jobs.length; i += READS_AT_ONCE) {
    const found = await Promise.all(jobs.slice(i, i + READS_AT_ONCE).map(async (job) => ({ job, node: await zk.getDataIfExists(paths.protocol1Control(job)) })));
    for (const { job, node } of found) {
      if (!node || node.data.length === 0) continue;
      if (await zk.createIfAbsent(paths.control(job), node.data)) carried++;
    }
  }
  await zk.setData(paths.controls, encodeJson(MIGRATED));
  log.info({ jobs: jobs.length, carried }, carried > 0 ? 'carried the jobs\' controls of run protocol 1 over to /controls' : 'no control of run protocol 1 to carry over');
  return carried;
}
