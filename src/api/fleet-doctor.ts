import type { ZkClient } from '../zk/zk-client.js';
import { RUN_PROTOCOL } from '../membership/member-info.js';
import { speaksOurProtocol } from '../membership/protocol-check.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { ConfigError } from '../errors/config-error.js';
import { validateJobDefinitions } from '../config/validate-job.js';
import { fourLetterWord, parseSrvr } from '../zk/four-letter-word.js';
import { formatItemList } from './item-list.js';
import { FleetReader } from './fleet-reader.js';
import type { FleetSnapshot } from './fleet-snapshot.js';
import { DEFAULT_MAX_CLOCK_SKEW_MS, jobSummaries, recordProblems, runStaleness, STALE_MARKER_MS, type ClockSkew } from './fleet-views.js';
import { DEFAULTS } from '../defaults.js';
import { readNamespaceAcl, type NamespaceAcl } from './acl-policy.js';
import { aclUser, formatPerms } from '../zk/zk-acl.js';
import { notAuthorizedIn } from '../zk/zk-errors.js';

/** One line of `zkctl doctor`. */
export interface DoctorCheck {
  /** Stable name: zookeeper, namespace, leader, protocol, definitions, code, records, item-nodes, owners, running-markers, clock-skew. */
  check: string;
  ok: boolean;
  detail: string;
}

export interface DoctorOptions {
  /** @default 5000 */
  maxClockSkewMs?: number;
  /** @default 24 h */
  staleMarkerMs?: number;
  /** Ask the server its version with the `srvr` four-letter word. @default true */
  serverVersion?: boolean;
}

/** The names of every check, in the order they are reported. */
export const DOCTOR_CHECKS = ['zookeeper', 'namespace', 'acl', 'leader', 'protocol', 'definitions', 'code', 'records', 'item-nodes', 'owners', 'running-markers', 'clock-skew'] as const;

/** The `zookeeper` check when no session could be established. */
export function unreachableCheck(connect: string, err: unknown): DoctorCheck {
  const message = (err as Error)?.message ?? String(err);
  return { check: 'zookeeper', ok: false, detail: message.includes(connect) ? message : `cannot reach ZooKeeper at ${connect}: ${message}` };
}

/**
 * Health checks of a fleet, each passing or failing with a one-line detail. Reads only, except
 * the clock-skew measurement's touch of `/<ns>/clock`.
 */
export async function runDoctor(zk: ZkClient, paths: ZkPaths, options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [await zookeeperCheck(zk, options.serverVersion ?? true)];
  if ((await zk.exists(paths.root)) === null) {
    checks.push({ check: 'namespace', ok: false, detail: `${paths.root} does not exist: no worker has joined and no job was applied` });
    for (const check of DOCTOR_CHECKS.slice(2)) checks.push({ check, ok: false, detail: 'not checked: no namespace' });
    return checks;
  }
  const reader = new FleetReader(zk, paths, options);
  const snapshot = await reader.snapshot();
  checks.push({ check: 'namespace', ok: true, detail: `${paths.root}: ${snapshot.members.length} live workers, ${snapshot.jobs.length} jobs` });
  checks.push(aclCheck(await readNamespaceAcl(zk, paths.root), paths.root));
  checks.push(leaderCheck(snapshot));
  checks.push(protocolCheck(snapshot));
  checks.push(definitionsCheck(snapshot));
  checks.push(codeCheck(snapshot));
  checks.push(recordsCheck(snapshot));
  checks.push(itemNodesCheck(snapshot));
  checks.push(ownersCheck(snapshot));
  checks.push(runsCheck(snapshot, options.staleMarkerMs ?? STALE_MARKER_MS));
  let clock: ClockSkew | undefined;
  let clockError: unknown;
  try {
    clock = await reader.clockSkew();
  } catch (err) {
    clockError = err;
  }
  checks.push(clockCheck(clock, clockError, options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS));
  return checks;
}

async function zookeeperCheck(zk: ZkClient, askVersion: boolean): Promise<DoctorCheck> {
  const detail = `connected to ${zk.connectString} (session 0x${zk.sessionId}, timeout ${zk.sessionTimeoutMs} ms)`;
  if (!askVersion) return { check: 'zookeeper', ok: true, detail };
  const first = zk.connectString.split('/')[0]!.split(',')[0]!;
  const colon = first.lastIndexOf(':');
  const host = colon > 0 ? first.slice(0, colon) : first;
  const port = colon > 0 ? Number(first.slice(colon + 1)) : DEFAULTS.zookeeper.port;
  try {
    const info = parseSrvr(await fourLetterWord(host, port, 'srvr', 1000));
    const version = info.fields['Zookeeper version']?.split(/[-,]/)[0]?.trim();
    return { check: 'zookeeper', ok: true, detail: version ? `${detail}; ZooKeeper ${version}${info.mode ? ` (${info.mode})` : ''}` : `${detail}; version unknown (srvr not allowed)` };
  } catch {
    return { check: 'zookeeper', ok: true, detail: `${detail}; version unknown (srvr did not answer)` };
  }
}

function leaderCheck(s: FleetSnapshot): DoctorCheck {
  const leader = s.members[0];
  if (!leader) return { check: 'leader', ok: false, detail: 'no live worker: no leader, nothing is assigned or run' };
  return { check: 'leader', ok: true, detail: `${leader.info.id} (${leader.name}) leads ${s.members.length} live ${s.members.length === 1 ? 'worker' : 'workers'}` };
}

function protocolCheck(s: FleetSnapshot): DoctorCheck {
  const others = s.members.filter((m) => !speaksOurProtocol(m));
  const unreadable = s.unreadableMembers ?? [];
  if (others.length === 0 && unreadable.length === 0) return { check: 'protocol', ok: true, detail: `every live worker speaks run protocol ${RUN_PROTOCOL}` };
  const named = [
    ...others.map((m) => `${m.info.id} (${m.name}: ${m.info.protocol === undefined ? 'none announced' : `protocol ${m.info.protocol}`})`),
    ...unreadable.map((u) => `${u.name} (its record cannot be read: ${u.problem})`),
  ].join(', ');
  const count = others.length + unreadable.length;
  return {
    check: 'protocol',
    ok: false,
    detail: `${named} ${count === 1 ? 'speaks' : 'speak'} another run protocol than this zkctl's (${RUN_PROTOCOL}): a leader of either protocol gives the other's workers no items, and workers of this protocol do not join while they are live; stop them (README.md, "Upgrading a fleet")`,
  };
}

function definitionsCheck(s: FleetSnapshot): DoctorCheck {
  const problems: string[] = [];
  for (const job of s.jobs) {
    if (!job.definition) {
      problems.push(`${job.name}: ${job.problem ?? 'does not decode'}`);
      continue;
    }
    try {
      validateJobDefinitions([job.definition], undefined, job.name);
    } catch (err) {
      const list = err instanceof ConfigError ? err.problems.map((p) => `${p.key.replace(/^[^.]*\./, '')}: ${p.message}`) : [(err as Error).message];
      problems.push(`${job.name}: ${list.join('; ')}`);
    }
  }
  if (problems.length > 0) return { check: 'definitions', ok: false, detail: problems.join(' | ') };
  return { check: 'definitions', ok: true, detail: s.jobs.length === 0 ? 'no jobs defined' : `${s.jobs.length} ${s.jobs.length === 1 ? 'definition decodes' : 'definitions decode'}, crons parse` };
}

/** Workers whose own file names another handler/command than the stored definition (they run their own). */
function codeCheck(s: FleetSnapshot): DoctorCheck {
  const differ = s.jobs.filter((j) => (j.codeMismatch?.length ?? 0) > 0).map((j) => `${j.name}: ${j.codeMismatch!.map((m) => m.worker).join(', ')}`);
  if (differ.length > 0) {
    return { check: 'code', ok: false, detail: `stored handler/command differs from the workers' own files (they run their own; make the files agree, or set overwrite: true on one): ${differ.join('; ')}` };
  }
  return { check: 'code', ok: true, detail: 'every live worker runs the handler/command the stored definitions name' };
}

/** Assignment, control and item records that do not decode (workers leave what they describe alone). */
function recordsCheck(s: FleetSnapshot): DoctorCheck {
  // (A malformed assignment node is every one of its jobs' problem: named once.)
  const problems = [...new Set(s.jobs.flatMap(recordProblems))];
  if (problems.length > 0) return { check: 'records', ok: false, detail: `${problems.length} malformed: ${problems.slice(0, 10).join(' | ')}${problems.length > 10 ? ' | ...' : ''}` };
  return { check: 'records', ok: true, detail: 'assignments, controls and item records decode' };
}

function itemNodesCheck(s: FleetSnapshot): DoctorCheck {
  const missing: string[] = [];
  for (const job of s.jobs) {
    const items = job.items.filter((i) => !i.exists && (job.definition === undefined || i.item < job.definition.shards)).map((i) => i.item);
    if (items.length > 0) missing.push(`${job.name} items ${formatItemList(items)}`);
  }
  if (missing.length > 0) return { check: 'item-nodes', ok: false, detail: `missing item nodes: ${missing.join('; ')}` };
  const total = s.jobs.reduce((n, j) => n + (j.definition?.shards ?? 0), 0);
  return { check: 'item-nodes', ok: true, detail: `${total} item nodes present` };
}

function ownersCheck(s: FleetSnapshot): DoctorCheck {
  const problems: string[] = [];
  let owned = 0;
  for (const job of jobSummaries(s)) {
    const disabled = new Set(job.disabledItems);
    const unowned = job.unowned.filter((i) => !disabled.has(i));
    const gone = job.ownerGone.filter((i) => !disabled.has(i));
    owned += job.owned;
    if (unowned.length > 0) problems.push(`${job.name} ${plural(unowned, 'has', 'have')} no owner`);
    if (gone.length > 0) problems.push(`${job.name} ${plural(gone, 'is', 'are')} owned by a worker that is gone`);
  }
  if (problems.length > 0) return { check: 'owners', ok: false, detail: problems.join('; ') };
  return { check: 'owners', ok: true, detail: `${owned} items owned by live workers` };
}

/** Check `running-markers` (its name kept from when runs held markers): the runs in flight the ledgers hold. */
function runsCheck(s: FleetSnapshot, staleMs: number): DoctorCheck {
  const stale: string[] = [];
  let running = 0;
  for (const job of s.jobs) {
    for (const it of job.items) {
      if (it.run?.live) running++;
      const why = runStaleness(it, s, staleMs);
      if (why) stale.push(`${job.name} item ${it.item}: ${why}`);
    }
  }
  if (stale.length > 0) return { check: 'running-markers', ok: false, detail: `stale: ${stale.join('; ')}` };
  return { check: 'running-markers', ok: true, detail: `${running} running, none stale` };
}

function aclCheck(ns: NamespaceAcl, root: string): DoctorCheck {
  if (ns.kind === 'open') return { check: 'acl', ok: false, detail: `namespace open to anyone: ${root} grants world:anyone; give the workers credentials, then run \`zkctl acl apply\` (docs/SECURITY.md)` };
  if (ns.kind === 'secured') return { check: 'acl', ok: true, detail: `${root} is secured: ${ns.acl.map((a) => `${aclUser(a)} (${formatPerms(a.perms)})`).join(', ')}` };
  return { check: 'acl', ok: true, detail: `${root} is secured (its ACL is not readable by this identity)` };
}

function clockCheck(clock: ClockSkew | undefined, err: unknown, maxMs: number): DoctorCheck {
  const refused = notAuthorizedIn(err);
  if (!clock && refused) return { check: 'clock-skew', ok: true, detail: `not measured: ${refused.user} may not write the clock node (a read-only identity)` };
  if (!clock) return { check: 'clock-skew', ok: false, detail: `could not measure: ${(err as Error)?.message ?? String(err)}` };
  const ok = Math.abs(clock.skewMs) <= maxMs;
  const dir = clock.skewMs === 0 ? 'equal to' : `${Math.abs(clock.skewMs)} ms ${clock.skewMs > 0 ? 'ahead of' : 'behind'}`;
  return { check: 'clock-skew', ok, detail: `this machine's clock is ${dir} ZooKeeper's (±${clock.uncertaintyMs} ms; limit ${maxMs} ms)` };
}

/** `item 3 has` / `items 0-2 have` */
function plural(items: readonly number[], one: string, many: string): string {
  return items.length === 1 ? `item ${items[0]} ${one}` : `items ${formatItemList(items)} ${many}`;
}
