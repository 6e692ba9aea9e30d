import type { ZkSession } from '../zk/zk-session.js';
import { sequenceOf, type ZkPaths } from '../zk/zk-paths.js';
import { readMemberInfo, type Member } from './member-info.js';
import { childrenIfExists } from '../zk/children-if-exists.js';
import type { MalformedDataError } from '../errors/malformed-data-error.js';

/** A live member node whose record cannot be read (`sequence`: NaN when its name has none). */
export interface UnreadableMember {
  name: string;
  sequence: number;
  error: MalformedDataError;
}

/** The live member nodes: the members, in sequence (election) order, and the nodes whose record cannot be read. */
export interface MemberNodes {
  members: Member[];
  unreadable: UnreadableMember[];
}

/** Reads the live members, in sequence (election) order; member nodes that cannot be read are left out. */
export async function readMembers(zk: ZkSession, paths: ZkPaths): Promise<Member[]> {
  return (await readMemberNodes(zk, paths)).members;
}

/** Reads every live member node: the members, and apart from them the nodes whose record cannot be read. */
export async function readMemberNodes(zk: ZkSession, paths: ZkPaths): Promise<MemberNodes> {
  const names = await childrenIfExists(zk, paths.workers);
  const found = await Promise.all(names.map((name) => zk.getDataIfExists(paths.member(name)).then((d) => [name, d] as const)));
  const members: Member[] = [];
  const unreadable: UnreadableMember[] = [];
  for (const [name, data] of found) {
    if (!data) continue; // gone meanwhile
    const info = readMemberInfo(data.data, paths.member(name));
    if (info.ok) members.push({ name, sequence: sequenceOf(name), info: info.value });
    else unreadable.push({ name, sequence: sequenceOf(name), error: info.error });
  }
  return { members: members.sort((a, b) => a.sequence - b.sequence), unreadable };
}
