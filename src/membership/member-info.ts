/** What a worker publishes in its membership node (JSON). */
export interface MemberInfo {
  /** The configured worker id (several members may share one across restarts). */
  id: string;
  host: string;
  pid: number;
  /** Names of the jobs this worker can run. */
  jobs: string[];
  labels: Record<string, string>;
  /** Relative weight for balancing, > 0. */
  capacity: number;
  /** `active` takes items; `draining` is leaving and gets none. */
  state: 'active' | 'draining';
  /** ISO time the member registered. */
  startedAt: string;
  /** zkshard version of the worker. */
  version: string;
  /**
   * The worker's last clock check against ZooKeeper's clock. A worker whose clock is off by more
   * than its `maxClockSkewMs` fires nothing and the leader gives it no items.
   */
  clock?: { skewMs: number; maxSkewMs: number; ok: boolean; checkedAt: string };
  /** The ZooKeeper user the worker authenticates as (`anonymous` without credentials). `zkctl acl apply` checks it. */
  identity?: string;
}

/** A live member: its node name (the member id used in assignments) and what it published. */
export interface Member {
  /** Node name under `/workers`, e.g. `m-3f9a1c2e-0000000007`: unique per session. */
  name: string;
  /** Sequence number: the election order. */
  sequence: number;
  info: MemberInfo;
}

export function encodeMemberInfo(info: MemberInfo): Buffer {
  return Buffer.from(JSON.stringify(info));
}

/** Decodes a membership node's data; undefined when it is not a valid record. */
export function decodeMemberInfo(data: Buffer): MemberInfo | undefined {
  try {
    const v = JSON.parse(data.toString('utf8')) as Partial<MemberInfo>;
    if (typeof v.id !== 'string' || !Array.isArray(v.jobs)) return undefined;
    return {
      id: v.id,
      host: String(v.host ?? ''),
      pid: Number(v.pid ?? 0),
      jobs: v.jobs.map(String),
      labels: v.labels ?? {},
      capacity: typeof v.capacity === 'number' && v.capacity > 0 ? v.capacity : 1,
      state: v.state === 'draining' ? 'draining' : 'active',
      startedAt: String(v.startedAt ?? ''),
      version: String(v.version ?? ''),
      ...(typeof v.identity === 'string' ? { identity: v.identity } : {}),
      clock: v.clock && typeof v.clock.skewMs === 'number' ? { skewMs: v.clock.skewMs, maxSkewMs: Number(v.clock.maxSkewMs), ok: v.clock.ok !== false, checkedAt: String(v.clock.checkedAt) } : undefined,
    };
  } catch {
    return undefined;
  }
}
