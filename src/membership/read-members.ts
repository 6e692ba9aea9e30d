import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { decodeMemberInfo, type Member } from './member-info.js';
import { childrenIfExists } from '../zk/children-if-exists.js';

/** Reads the live members, in sequence (election) order. */
export async function readMembers(zk: ZkSession, paths: ZkPaths): Promise<Member[]> {
  const names = await childrenIfExists(zk, paths.workers);
  const found = await Promise.all(names.map((name) => zk.getDataIfExists(paths.member(name)).then((d) => [name, d] as const)));
  const members: Member[] = [];
  for (const [name, data] of found) {
    const info = data && decodeMemberInfo(data.data);
    if (info) members.push({ name, sequence: sequenceOf(name), info });
  }
  return members.sort((a, b) => a.sequence - b.sequence);
}
