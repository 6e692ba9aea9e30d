import type { ZkSession } from '../zk/zk-session.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import type { AssignmentRecord } from '../model/assignment-record.js';
import { ASSIGNMENT_GROUPS, assignmentNodeOf, decodeAssignmentGroup, decodeJobAssignment } from '../model/assignment-group.js';

/** The assignment node holding `job`'s assignment (null while it does not exist). */
function readAssignmentNode(zk: ZkSession, paths: ZkPaths, job: string): ReturnType<ZkSession['getDataIfExists']> {
  return zk.getDataIfExists(assignmentNodeOf(paths, job));
}

/** `job`'s assignment; undefined when there is none yet, or its node does not decode. */
export async function readAssignmentOf(zk: ZkSession, paths: ZkPaths, job: string): Promise<AssignmentRecord | undefined> {
  return decodeJobAssignment((await readAssignmentNode(zk, paths, job))?.data, job);
}

/** Every job's assignment, from every assignment node that exists and decodes. */
export async function readAllAssignments(zk: ZkSession, paths: ZkPaths): Promise<Map<string, AssignmentRecord>> {
  const nodes = await Promise.all(Array.from({ length: ASSIGNMENT_GROUPS }, (_, g) => zk.getDataIfExists(paths.assignmentGroup(g))));
  const all = new Map<string, AssignmentRecord>();
  nodes.forEach((node, g) => {
    for (const [job, record] of decodeAssignmentGroup(node?.data, g)?.jobs ?? []) all.set(job, record);
  });
  return all;
}
