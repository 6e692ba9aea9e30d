import type { ZkClient } from '../zk/zk-client.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { RequestError } from '../errors/request-error.js';
import { decodeJson } from '../model/json-codec.js';
import { decodeMemberInfo } from '../membership/member-info.js';
import { decodeJob } from '../model/job-record.js';
import { readAssignmentGroup } from '../model/assignment-group.js';
import { readControl } from '../model/job-control.js';
import { readProgress } from '../model/progress-record.js';
import { decodeMarker } from '../model/running-marker.js';
import { readLedgerPart } from '../model/member-ledger.js';
import { countPositional, indexVersionOf, readLedgerIndex } from '../model/positional-ledger.js';
import { formatItemList } from './item-list.js';
import { readSubtree, type ZnodeEntry } from './zk-read.js';

/** What a znode is in zkshard's layout (docs/ARCHITECTURE.md). */
export type NodeKind =
  | 'namespace' | 'workers' | 'member' | 'jobs' | 'job' | 'assignments' | 'assignment' | 'controls' | 'control' | 'items' | 'item'
  | 'running' | 'stages' | 'triggers' | 'trigger' | 'drains' | 'drain' | 'clock' | 'rebalance'
  | 'ledgers' | 'ledger' | 'ledger-part' | 'ledger-index' | 'node';

/** One node of `zkctl tree`. */
export interface TreeNode {
  /** Absolute znode path. */
  path: string;
  name: string;
  kind: NodeKind;
  ephemeral: boolean;
  /** Data version. */
  version: number;
  dataLength: number;
  numChildren: number;
  /** Short human summary of the contents ('' when there is nothing to say). */
  summary: string;
  /** Absent below the depth limit (see `numChildren`). */
  children?: TreeNode[];
}

/** Largest summary length. */
const SUMMARY_MAX = 80;

/** The kind of an absolute path inside the namespace. */
export function nodeKind(paths: ZkPaths, path: string): NodeKind {
  if (path === paths.root) return 'namespace';
  if (!paths.isInside(path)) return 'node';
  const s = path.slice(paths.root.length + 1).split('/');
  const [top, a, b, c, d] = s;
  switch (s.length) {
    case 1:
      return top === 'workers' ? 'workers' : top === 'jobs' ? 'jobs' : top === 'assignments' ? 'assignments' : top === 'controls' ? 'controls' : top === 'drains' ? 'drains' : top === 'clock' ? 'clock' : top === 'rebalance' ? 'rebalance' : top === 'ledgers' ? 'ledgers' : 'node';
    case 2:
      if (top === 'assignments') return /^(0|[1-9]\d*)$/.test(a ?? '') ? 'assignment' : 'node';
      if (top === 'controls') return 'control';
      return top === 'workers' ? 'member' : top === 'jobs' ? 'job' : top === 'drains' ? 'drain' : top === 'ledgers' ? 'ledger' : 'node';
    case 3:
      if (top === 'ledgers') return /^\d+$/.test(b ?? '') ? 'ledger-part' : 'node';
      if (top !== 'jobs') return 'node';
      return b === 'items' ? 'items' : b === 'triggers' ? 'triggers' : 'node';
    case 4:
      if (top === 'ledgers') return /^\d+$/.test(b ?? '') && c === 'index' ? 'ledger-index' : 'node';
      if (top !== 'jobs' || a === undefined) return 'node';
      if (b === 'items' && /^\d+$/.test(c ?? '')) return 'item';
      if (b === 'triggers') return 'trigger';
      return 'node';
    case 5:
      if (top === 'jobs' && b === 'items' && /^\d+$/.test(c ?? '')) return d === 'running' ? 'running' : d === 'stages' ? 'stages' : 'node';
      return 'node';
    default:
      return 'node';
  }
}

/** A one-line summary of a node's contents by kind. */
export function summarize(kind: NodeKind, entry: Pick<ZnodeEntry, 'data' | 'stat' | 'children'> & { path?: string }): string {
  const { data, stat } = entry;
  const text = ((): string => {
    switch (kind) {
      case 'namespace':
      case 'jobs':
      case 'items':
      case 'triggers':
      case 'drains':
      case 'assignments':
      case 'controls':
        return `${entry.children.length} ${entry.children.length === 1 ? 'child' : 'children'}`;
      case 'workers':
        return `${entry.children.length} live ${entry.children.length === 1 ? 'member' : 'members'}`;
      case 'ledgers':
        return `${entry.children.length} member ${entry.children.length === 1 ? 'ledger' : 'ledgers'}`;
      case 'ledger':
        return `${entry.children.length} ${entry.children.length === 1 ? 'part' : 'parts'}`;
      case 'ledger-index': {
        const read = readLedgerIndex(data, 'index');
        return read.ok ? `${read.value.jobs.length} ${read.value.jobs.length === 1 ? 'position' : 'positions'}` : `malformed: ${read.error.reason}`;
      }
      case 'ledger-part': {
        if (indexVersionOf(data) !== undefined) {
          // Positional (its job names are in its index): counted without it.
          const count = countPositional(data, 'ledger');
          if (!count.ok) return `malformed: ${count.error.reason}`;
          const { claimed, inFlight, indexVersion } = count.value;
          return `${claimed} ${claimed === 1 ? 'item' : 'items'} claimed, ${inFlight} ${inFlight === 1 ? 'run' : 'runs'} in flight (index v${indexVersion})`;
        }
        const read = readLedgerPart(data, 'ledger');
        if (!read.ok) return `malformed: ${read.error.reason}`;
        let flying = 0;
        for (const e of read.value.values()) flying += e.f.size;
        return `${read.value.size} ${read.value.size === 1 ? 'job' : 'jobs'}, ${flying} ${flying === 1 ? 'run' : 'runs'} in flight`;
      }
      case 'member': {
        const m = data.length > 0 ? decodeMemberInfo(data) : undefined;
        return m ? `${m.id} ${m.state} ${m.host}:${m.pid} capacity ${m.capacity} jobs ${m.jobs.join(',') || '-'}` : raw(data);
      }
      case 'job': {
        const def = decodeJob(data);
        return def ? `cron "${def.cron}" ${def.timeZone} shards ${def.shards} ${def.strategy} ${def.handler ? `handler ${def.handler}` : `command ${JSON.stringify(def.command)}`}` : `invalid: ${raw(data)}`;
      }
      case 'assignment': {
        const path = entry.path ?? '';
        const read = readAssignmentGroup(data, path || 'assignment', Number(path.slice(path.lastIndexOf('/') + 1)));
        if (!read.ok) return `malformed: ${read.error.reason}`;
        if (!read.value) return raw(data);
        const jobs = [...read.value.jobs.values()].map((a) => {
          const byWorker = new Map<string, number[]>();
          a.owners.forEach((o, i) => {
            const key = o === null ? '(none)' : (a.workers[o] ?? o);
            byWorker.set(key, [...(byWorker.get(key) ?? []), i]);
          });
          return `${a.job} generation ${a.generation}: ${[...byWorker].map(([w, items]) => `${w}=${formatItemList(items)}`).join(' ')}`;
        });
        return `${jobs.length} ${jobs.length === 1 ? 'job' : 'jobs'}; ${jobs.join('; ')}`;
      }
      case 'control': {
        const read = readControl(data, 'control');
        if (!read.ok) return `malformed: ${read.error.reason}`;
        const c = read.value;
        const parts = [c.disabled ? 'job disabled' : '', c.disabledItems.length ? `items ${formatItemList(c.disabledItems)} disabled` : '',
          Object.keys(c.pins).length ? `pins ${Object.entries(c.pins).map(([i, w]) => `${i}→${w}`).join(' ')}` : ''].filter(Boolean);
        return parts.join('; ') || 'no requests';
      }
      case 'item': {
        if (data.length === 0) return 'never fired';
        const read = readProgress(data, 'item');
        if (!read.ok) return `malformed: ${read.error.reason}`;
        const p = read.value;
        const parts = [p.lastScheduled ? `last fire ${p.lastScheduled}` : '', p.outcome ?? '', p.worker ? `on ${p.worker}` : '', p.inFlight ? `in flight ${p.inFlight.fireTime}` : ''];
        return parts.filter(Boolean).join(' ') || raw(data);
      }
      case 'running': {
        const m = decodeMarker(data);
        return m ? `${m.worker} fire ${m.fireTime} attempt ${m.attempt} since ${m.startedAt}` : raw(data);
      }
      case 'stages': {
        const st = decodeJson<{ fireId?: string; done?: Record<string, unknown> }>(data);
        return st ? `fire ${st.fireId ?? '?'}: ${Object.keys(st.done ?? {}).join(',') || 'none'} done` : raw(data);
      }
      case 'clock':
        return `ZooKeeper time ${new Date(stat.mtime).toISOString()}`;
      default:
        return raw(data);
    }
  })();
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text;
}

function raw(data: Buffer): string {
  if (data.length === 0) return '';
  const s = data.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(s)) return `${data.length} bytes`;
  return s.replace(/\s+/g, ' ');
}

/**
 * Resolves an operator's path (relative to the namespace; `/jobs/x` and `jobs/x` are the same)
 * and refuses one that leaves the namespace.
 */
export function resolveTreePath(paths: ZkPaths, relative: string): string {
  if (relative.includes('\0')) throw new RequestError('REQUEST_INVALID', 'tree: the path contains a NUL character');
  const resolved = paths.resolve(relative);
  if (!paths.isInside(resolved)) {
    throw new RequestError('REQUEST_INVALID', `tree: path ${JSON.stringify(relative)} leaves the namespace ${paths.root}`);
  }
  return resolved;
}

/**
 * The subtree at `relative` (inside the namespace) with node kinds and short contents, down to
 * `depth` levels below it (children of the deepest level are counted, not listed).
 * @throws RequestError NOT_FOUND when the node does not exist; REQUEST_INVALID for a path outside the namespace or a bad depth.
 */
export async function readTree(zk: ZkClient, paths: ZkPaths, relative = '/', depth = Number.POSITIVE_INFINITY): Promise<TreeNode> {
  if (!(depth >= 0) || (Number.isFinite(depth) && !Number.isInteger(depth))) {
    throw new RequestError('REQUEST_INVALID', `tree: depth must be a whole number >= 0, got ${depth}`);
  }
  const root = resolveTreePath(paths, relative);
  const entries = await readSubtree(zk, root, depth);
  if (entries.length === 0) throw new RequestError('NOT_FOUND', `tree: no znode ${root} on ${zk.connectString}`);
  const nodes = new Map<string, TreeNode>();
  for (const e of entries) {
    const kind = nodeKind(paths, e.path);
    const node: TreeNode = {
      path: e.path,
      name: e.path === '/' ? '/' : e.path.slice(e.path.lastIndexOf('/') + 1),
      kind,
      ephemeral: e.stat.ephemeralOwner !== null,
      version: e.stat.version,
      dataLength: e.stat.dataLength,
      numChildren: e.children.length,
      summary: summarize(kind, e),
    };
    if (e.depth < depth) node.children = [];
    nodes.set(e.path, node);
    if (e.depth > 0) nodes.get(e.path.slice(0, e.path.lastIndexOf('/')) || '/')?.children?.push(node);
  }
  return nodes.get(root)!;
}
