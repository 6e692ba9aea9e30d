import { posix } from 'node:path';

/** What a namespace (the fleet's root znode, without its slash) looks like. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Prefix of membership nodes: `m-<token>-<sequence>`. */
export const MEMBER_PREFIX = 'm-';
/** Prefix of manual trigger requests: `t-<sequence>`. */
export const TRIGGER_PREFIX = 't-';
/** Prefix of the sequential audit entries (`/audit/a-0000000042`). */
export const AUDIT_PREFIX = 'a-';
/** Name of an item's running marker. */
const RUNNING = 'running';

/**
 * Every znode path zkshard uses, built in one place. The layout is documented in
 * docs/ARCHITECTURE.md; change both together.
 */
export class ZkPaths {
  /** `/<namespace>` */
  readonly root: string;

  constructor(namespace: string) {
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw new RangeError(`zk: namespace must match [A-Za-z0-9][A-Za-z0-9._-]*, got ${JSON.stringify(namespace)}`);
    }
    this.root = `/${namespace}`;
  }

  /** Parent of the ephemeral sequential membership nodes. */
  get workers(): string {
    return `${this.root}/workers`;
  }

  member(name: string): string {
    return `${this.workers}/${name}`;
  }

  /** Parent of the job definitions. */
  get jobs(): string {
    return `${this.root}/jobs`;
  }

  /** A job's definition (JSON). */
  job(job: string): string {
    return `${this.jobs}/${job}`;
  }

  /** Parent of the leader-written assignment nodes (run protocol 2). */
  get assignments(): string {
    return `${this.root}/assignments`;
  }

  /** Assignment node `group`: the assignments of the jobs `assignmentGroupOf` puts there. */
  assignmentGroup(group: number): string {
    return `${this.assignments}/${group}`;
  }

  /** Parent of a job's item nodes. */
  items(job: string): string {
    return `${this.job(job)}/items`;
  }

  /** An item's progress record (persistent). */
  item(job: string, item: number): string {
    return `${this.items(job)}/${item}`;
  }

  /** An item's running marker (ephemeral, owned by the running worker's session). */
  running(job: string, item: number): string {
    return `${this.item(job, item)}/${RUNNING}`;
  }

  /** An item's run history (persistent; written when runs end). */
  history(job: string, item: number): string {
    return `${this.item(job, item)}/history`;
  }

  /** An item's staged-work record (persistent). */
  stages(job: string, item: number): string {
    return `${this.item(job, item)}/stages`;
  }

  /** Parent of the jobs' operator requests (a node only for a job that has some). */
  get controls(): string {
    return `${this.root}/controls`;
  }

  /** Operator requests for a job: disabled job/items and pins (`JobControl`). */
  control(job: string): string {
    return `${this.controls}/${job}`;
  }

  /** Where run protocol 1 kept a job's control: read once by a leader, to carry it over to {@link control}. */
  protocol1Control(job: string): string {
    return `${this.job(job)}/control`;
  }

  /** Parent of a job's manual trigger requests (persistent sequential `t-` nodes). */
  triggers(job: string): string {
    return `${this.job(job)}/triggers`;
  }

  /** A trigger request; `trigger(job, TRIGGER_PREFIX)` is what its sequential create names. */
  trigger(job: string, name: string): string {
    return `${this.triggers(job)}/${name}`;
  }

  /** Parent of drain requests: one node per drained worker id. */
  get drains(): string {
    return `${this.root}/drains`;
  }

  drain(workerId: string): string {
    return `${this.drains}/${workerId}`;
  }

  /** Touched by `zkctl rebalance` to make the leader recompute every assignment. */
  get rebalance(): string {
    return `${this.root}/rebalance`;
  }

  /** The operators' audit trail when there is no PostgreSQL: the last entries, one sequential node each. */
  get audit(): string {
    return `${this.root}/audit`;
  }

  /** An audit entry; `auditEntry(AUDIT_PREFIX)` is what its sequential create names. */
  auditEntry(name: string): string {
    return `${this.audit}/${name}`;
  }

  /** Parent of the members' ledgers (run protocol v2: docs/design/run-protocol-v2.md). */
  get ledgers(): string {
    return `${this.root}/ledgers`;
  }

  /** A member's ledger: persistent, written only by the member while it lives; its parts below it. */
  ledger(member: string): string {
    return `${this.ledgers}/${member}`;
  }

  /** Part `part` of a member's ledger (the jobs `ledgerPartOf` puts there). */
  ledgerPart(member: string, part: number): string {
    return `${this.ledger(member)}/${part}`;
  }

  /** The index of a ledger part in the positional form (`model/positional-ledger.ts`): a child of the part. */
  ledgerIndex(member: string, part: number): string {
    return childPath(this.ledgerPart(member, part), LEDGER_INDEX_NODE);
  }

  /** Written to read ZooKeeper's clock (its mtime) for clock-skew checks. */
  get clock(): string {
    return `${this.root}/clock`;
  }

  /** Whether `path` is the namespace's root or a node below it. */
  isInside(path: string): boolean {
    return path === this.root || path.startsWith(`${this.root}/`);
  }

  /** Resolves a path given by an operator (`zkctl tree [path]`) inside the namespace. */
  resolve(relative: string): string {
    const joined = posix.normalize(posix.join(this.root, relative));
    return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
  }
}

/** Name of a ledger part's index node (a child of the part: `ledgerIndex`). */
export const LEDGER_INDEX_NODE = 'index';

/** The path of the child `name` of `parent` (of the root `/` too). */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The sequence number of a sequential node name (its last 10 digits). */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : Number.NaN;
}

/** Sorts sequential node names by their sequence number, ascending. */
export function sortBySequence(names: readonly string[]): string[] {
  return [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b));
}
