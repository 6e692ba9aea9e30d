import type { ZkPaths } from '../../src/zk/zk-paths.js';
import type { AssignmentRecord } from '../../src/model/assignment-record.js';
import { assignmentGroupOf, assignmentNodeOf, decodeJobAssignment, encodeAssignmentGroup } from '../../src/model/assignment-group.js';

/** The assignment node holding `job`'s assignment. */
export const assignmentPath: (paths: ZkPaths, job: string) => string = assignmentNodeOf;

/** `job`'s assignment in an assignment node's data (undefined: none, or the node does not decode). */
export const assignmentIn = (data: Buffer | undefined, job: string): AssignmentRecord | undefined => decodeJobAssignment(data, job);

/** An assignment node holding these records (all of one group), as a leader writes it. */
export function encodeAssignments(...records: AssignmentRecord[]): Buffer {
  const first = records[0]!;
  return encodeAssignmentGroup(assignmentGroupOf(first.job), first.leader, first.updatedAt, records);
}
