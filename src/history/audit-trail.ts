import type pg from 'pg';
import type { ZkSession } from '../zk/zk-session.js';
import { AUDIT_PREFIX, sortBySequence, type ZkPaths } from '../zk/zk-paths.js';
import { NoNodeError } from '../zk/zk-errors.js';

/** One operator mutation, as recorded. */
export interface AuditEntry {
  at: Date;
  /** The ZooKeeper user of the session that made it (`anonymous` without credentials). */
  zkUser: string;
  /** The OS user and host that ran zkctl. */
  osUser: string;
  host: string;
  /** The console user, for mutations made in the console. */
  consoleUser?: string;
  /** `drain`, `reshard`, `acl apply`... */
  action: string;
  /** What it acted on (`sync-orders`, `worker-a`, `sync-orders#3`...). */
  target: string;
  /** Its arguments and options. */
  request: Record<string, unknown>;
  /** `ok`, or `failed: <message>`. */
  result: string;
}

/** One row of `zkctl audit --json`, newest first. */
export interface AuditRow {
  at: string;
  actor: string;
  action: string;
  target: string;
  result: string;
  request: Record<string, unknown>;
}

/** Where the audit trail is kept: PostgreSQL when configured, else the last entries in ZooKeeper. */
export interface AuditTrail {
  /** `pg` or `zookeeper`. */
  readonly kind: 'postgres' | 'zookeeper';
  append(entry: AuditEntry): Promise<void>;
  list(query: { since?: Date; limit?: number }): Promise<AuditRow[]>;
}

/** How many entries ZooKeeper keeps without PostgreSQL. */
export const ZK_AUDIT_KEEP = 100;
/** Largest request stored in ZooKeeper (a longer one is cut): an entry stays a small node. */
const ZK_MAX_REQUEST_CHARS = 4000;

/** Who made it, as one string: `console:<user>`, or `<os user>@<host> (zk <user>)`. */
export function actorOf(e: Pick<AuditEntry, 'zkUser' | 'osUser' | 'host' | 'consoleUser'>): string {
  return e.consoleUser !== undefined ? `console:${e.consoleUser} (zk ${e.zkUser})` : `${e.osUser}@${e.host} (zk ${e.zkUser})`;
}

/** The audit trail in PostgreSQL (`zkshard_audit`; schema from the history migrations). */
export class PostgresAuditTrail implements AuditTrail {
  readonly kind = 'postgres';

  constructor(private readonly db: pg.Pool) {}

  async append(e: AuditEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO zkshard_audit (at, zk_user, os_user, host, console_user, action, target, request, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [e.at, e.zkUser, e.osUser, e.host, e.consoleUser ?? null, e.action, e.target, JSON.stringify(e.request), JSON.stringify(e.result)],
    );
  }

  async list(query: { since?: Date; limit?: number }): Promise<AuditRow[]> {
    const { rows } = await this.db.query(
      `SELECT at, zk_user, os_user, host, console_user, action, target, request, result FROM zkshard_audit
       ${query.since ? 'WHERE at >= $2' : ''} ORDER BY at DESC, id DESC LIMIT $1`,
      query.since ? [query.limit ?? 100, query.since] : [query.limit ?? 100],
    );
    return rows.map((r: Record<string, unknown>) => ({
      at: (r.at as Date).toISOString(),
      actor: actorOf({ zkUser: r.zk_user as string, osUser: r.os_user as string, host: r.host as string, consoleUser: (r.console_user as string | null) ?? undefined }),
      action: r.action as string,
      target: r.target as string,
      result: r.result as string,
      request: r.request as Record<string, unknown>,
    }));
  }
}

/**
 * The audit trail without PostgreSQL: the last {@link ZK_AUDIT_KEEP} entries as sequential nodes
 * under `<namespace>/audit` (created with the namespace's ACL); older ones are removed after each
 * append.
 */
export class ZooKeeperAuditTrail implements AuditTrail {
  readonly kind = 'zookeeper';

  constructor(
    private readonly zk: ZkSession,
    private readonly paths: ZkPaths,
    private readonly keep = ZK_AUDIT_KEEP,
  ) {}

  async append(e: AuditEntry): Promise<void> {
    let request = JSON.stringify(e.request);
    if (request.length > ZK_MAX_REQUEST_CHARS) request = JSON.stringify({ truncated: request.slice(0, ZK_MAX_REQUEST_CHARS) });
    const data = `{"at":${JSON.stringify(e.at.toISOString())},"actor":${JSON.stringify(actorOf(e))},"action":${JSON.stringify(e.action)},"target":${JSON.stringify(e.target)},"result":${JSON.stringify(e.result.slice(0, 1000))},"request":${request}}`;
    await this.zk.mkdirp(this.paths.audit);
    await this.zk.create(this.paths.auditEntry(AUDIT_PREFIX), data, 'persistentSequential');
    const names = sortBySequence(await this.zk.getChildren(this.paths.audit));
    for (const old of names.slice(0, Math.max(0, names.length - this.keep))) {
      await this.zk.remove(this.paths.auditEntry(old)).catch((err: unknown) => {
        if (!(err instanceof NoNodeError)) throw err; // removed by a concurrent zkctl
      });
    }
  }

  async list(query: { since?: Date; limit?: number }): Promise<AuditRow[]> {
    let names: string[];
    try {
      names = sortBySequence(await this.zk.getChildren(this.paths.audit)).reverse();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
    const rows: AuditRow[] = [];
    for (const name of names) {
      if (rows.length >= (query.limit ?? 100)) break;
      const found = await this.zk.getDataIfExists(this.paths.auditEntry(name));
      const row = found ? parseRow(found.data.toString('utf8')) : undefined;
      if (!row || (query.since && new Date(row.at) < query.since)) continue;
      rows.push(row);
    }
    return rows;
  }
}

/** A stored entry, or undefined when it does not decode (never trusted: shown only if well formed). */
function parseRow(text: string): AuditRow | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
    const at = str('at');
    if (!at || Number.isNaN(Date.parse(at)) || !str('action')) return undefined;
    const request = v.request && typeof v.request === 'object' && !Array.isArray(v.request) ? Object.fromEntries(Object.entries(v.request)) : {};
    return { at, actor: str('actor') ?? '?', action: str('action')!, target: str('target') ?? '', result: str('result') ?? '?', request };
  } catch {
    return undefined;
  }
}
