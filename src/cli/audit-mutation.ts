import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { ZkClient } from '../zk/zk-client.js';
import { resolveNamespaceAcl } from '../api/acl-policy.js';
import type { ZkPaths } from '../zk/zk-paths.js';
import { PostgresAuditTrail, ZooKeeperAuditTrail, type AuditEntry } from '../history/audit-trail.js';
import { pgUrlOf, withHistoryDb } from './pg-option.js';

/** The zkctl commands that change the fleet: each run is audited (unless `--dry-run`). */
export const AUDITED_ACTIONS: ReadonlySet<string> = new Set(['apply', 'remove', 'reshard', 'rebalance', 'move', 'unpin', 'drain', 'undrain', 'disable', 'enable', 'trigger', 'acl apply']);

/** The audited action `cmd` performs (`drain`, `acl apply`...), or undefined for a read or a dry run. */
export function auditedAction(cmd: Command): string | undefined {
  const name = cmd.parent?.parent ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
  if (!AUDITED_ACTIONS.has(name) || cmd.opts<{ dryRun?: boolean }>().dryRun === true) return undefined;
  return name;
}

/**
 * Runs a command's `fn` and, when it is a mutation, records when, who (ZooKeeper user, OS user and
 * host), what (action, target, request) and the result: in PostgreSQL with `--pg`/`ZKSHARD_PG_URL`,
 * else among the last 100 entries in ZooKeeper (with the namespace root's ACL, read again: `acl
 * apply` may just have changed it). When the audit write of a change that was made fails, a warning
 * says so on stderr; it never changes the command's outcome. A refused or failed request is
 * recorded when the trail can be written (a viewer cannot write to ZooKeeper: then it is not).
 */
export async function audited<T>(cmd: Command, zk: ZkClient, paths: ZkPaths, fn: () => Promise<T>): Promise<T> {
  const action = auditedAction(cmd);
  if (action === undefined) return fn();
  const opts = cmd.opts<Record<string, unknown>>();
  const entry: Omit<AuditEntry, 'result'> = {
    at: new Date(),
    zkUser: zk.user,
    osUser: osUser(),
    host: hostname(),
    action,
    target: cmd.args.join(' ') || (typeof opts.file === 'string' ? opts.file : '*'),
    request: { args: [...cmd.args], options: opts },
  };
  let result = 'ok';
  try {
    return await fn();
  } catch (err) {
    result = `failed: ${(err as Error)?.message ?? String(err)}`.slice(0, 1000);
    throw err;
  } finally {
    try {
      const url = pgUrlOf(cmd);
      if (url) await withHistoryDb(url, (db) => new PostgresAuditTrail(db).append({ ...entry, result }));
      else {
        await resolveNamespaceAcl(zk, paths.root);
        await new ZooKeeperAuditTrail(zk, paths).append({ ...entry, result });
      }
    } catch (err) {
      if (result === 'ok') process.stderr.write(`warning: audit entry not recorded: ${(err as Error)?.message ?? String(err)}\n`);
    }
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}
