import { Command } from 'commander';
import { PostgresAuditTrail, ZooKeeperAuditTrail, ZK_AUDIT_KEEP, type AuditRow } from '../../history/audit-trail.js';
import { formatTime, print, printJson, renderTable, outputWidth } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { pgUrlOf, withHistoryDb } from '../pg-option.js';
import { timeOption } from './since-option.js';

/** `zkctl audit [--since 1h|<ISO>] [--limit 100]`: the operators' mutations, newest first. */
export function makeAuditCommand(): Command {
  return new Command('audit')
    .description(`who changed what: every zkctl mutation, newest first (PostgreSQL with --pg; else the last ${ZK_AUDIT_KEEP} kept in ZooKeeper)`)
    .option('--since <when>', 'entries at or after: a duration back from now (15m, 1h, 7d) or an ISO time', timeOption('--since', true))
    .option('--limit <n>', 'at most this many rows', integerOption('--limit', 1, 100_000), 100)
    .action(async (flags: { since?: Date; limit: number }, cmd: Command) => {
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const url = pgUrlOf(cmd);
      let rows: AuditRow[];
      if (url) rows = await withHistoryDb(url, (db) => new PostgresAuditTrail(db).list(flags));
      else {
        process.stderr.write(`note: no history database (--pg or ZKSHARD_PG_URL): showing the last ${ZK_AUDIT_KEEP} entries kept in ZooKeeper\n`);
        rows = await withZk(cmd, ({ zk, paths }) => new ZooKeeperAuditTrail(zk, paths).list(flags));
      }
      if (json) printJson(rows);
      else print(renderAudit(rows));
    });
}

export function renderAudit(rows: readonly AuditRow[], width = outputWidth()): string {
  if (rows.length === 0) return 'no changes recorded';
  return renderTable(['AT', 'ACTOR', 'ACTION', 'TARGET', 'RESULT'], rows.map((r) => [formatTime(r.at), r.actor, r.action, r.target, r.result]), { maxWidth: width, shrink: [4, 3, 1] });
}
