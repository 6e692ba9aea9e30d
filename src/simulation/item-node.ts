import type { ZkPaths } from '../zk/zk-paths.js';

/**
 * The job and item of `path` when it is an item's node (`leaf` 'item': `/jobs/<job>/items/<i>`) or
 * one of its `leaf` children (`/jobs/<job>/items/<i>/<leaf>`).
 */
export function itemNodeOf(paths: ZkPaths, path: string, leaf: 'item' | 'running' | 'history'): { job: string; item: number } | undefined {
  const m = /^(.*)\/items\/(\d+)(?:\/([a-z]+))?$/.exec(path);
  if (!m || (m[3] ?? 'item') !== leaf || !m[1]!.startsWith(`${paths.jobs}/`)) return undefined;
  return { job: m[1]!.slice(paths.jobs.length + 1), item: Number(m[2]) };
}
