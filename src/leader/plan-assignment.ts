import type { JobDefinition } from '../config/job-definition.js';
import type { Member } from '../membership/member-info.js';
import type { JobControl } from '../model/job-control.js';
import type { MemberInfo } from '../membership/member-info.js';
import { allocate } from '../sharding/allocate.js';
import { speaksOurProtocol } from '../membership/protocol-check.js';

export interface AssignmentPlanInput {
  def: Pick<JobDefinition, 'name' | 'shards' | 'strategy'>;
  /** Live members in sequence order. */
  members: readonly Member[];
  /** Worker ids an operator is draining. */
  drained: ReadonlySet<string>;
  control: JobControl;
  /** Current owners (member names) per item. */
  previous?: readonly (string | null)[];
}

export interface AssignmentPlan {
  /** Member name per item, or null. */
  owners: (string | null)[];
  /** Items that must not fire, ascending. */
  disabled: number[];
  /** Pins honoured: item → worker id. */
  pins: Record<string, string>;
}

/**
 * What the leader writes for one job: the members that may run it (active, of our run protocol,
 * clock within bounds, not drained, declaring the job), the operator's pins resolved to members, the job's strategy, and its disabled items.
 * Pure; `zkctl` uses it for its dry runs, so they show exactly what the leader will do.
 */
export function planAssignment(input: AssignmentPlanInput): AssignmentPlan {
  const { def, members, drained, control } = input;
  const eligible = members.filter(
    (m) => m.info.state === 'active' && speaksOurProtocol(m) && m.info.clock?.ok !== false && !drained.has(m.info.id) && declaredJobs(m.info).has(def.name),
  );
  const pinned: Record<number, string> = {};
  const pins: Record<string, string> = {};
  for (const [item, workerId] of Object.entries(control.pins)) {
    const member = eligible.find((m) => m.info.id === workerId);
    if (member && Number(item) < def.shards) {
      pinned[Number(item)] = member.name;
      pins[item] = workerId;
    }
  }
  const owners = allocate(def.strategy, {
    job: def.name,
    shards: def.shards,
    workers: eligible.map((m) => ({ id: m.name, capacity: m.info.capacity })),
    previous: input.previous,
    pins: pinned,
  });
  const disabled = control.disabled
    ? Array.from({ length: def.shards }, (_, i) => i)
    : [...new Set(control.disabledItems.filter((i) => i >= 0 && i < def.shards))].sort((a, b) => a - b);
  return { owners, disabled, pins };
}

/**
 * The jobs a member declares, as a set made once per decoded member record: the leader plans every
 * job against the same records, and a scan of a 10,000-name list per job and member was most of a
 * pass at 10,000 jobs.
 */
const declared = new WeakMap<MemberInfo, ReadonlySet<string>>();

function declaredJobs(info: MemberInfo): ReadonlySet<string> {
  let jobs = declared.get(info);
  if (!jobs) {
    jobs = new Set(info.jobs);
    declared.set(info, jobs);
  }
  return jobs;
}
