import { Command, Option } from 'commander';
import { checkJobName, FleetReader } from '../../api/fleet-reader.js';
import { zooKeeperRuns } from '../../api/zookeeper-runs.js';
import { RUN_OUTCOMES, RECENT_OUTCOMES, type RunOutcome } from '../../model/progress-record.js';
import { DEFAULT_RUN_LIMIT, queryRuns, type RunFilter, type RunRow } from '../../history/run-query.js';
import { formatTime, print, printJson, renderTable, outputWidth } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { pgUrlOf, withHistoryDb } from '../pg-option.js';
import { timeOption } from './since-option.js';

interface RunsFlags {
  item?: number;
  outcome?: RunOutcome;
  since?: Date;
  until?: Date;
  limit: number;
}

/**
 * `zkctl runs [<job>] [--item N] [--outcome o] [--since 1h|<ISO>] [--until <ISO>] [--limit 100]`:
 * runs and missed/skipped fires, newest first, from PostgreSQL (`--pg`/`ZKSHARD_PG_URL`), else from
 * ZooKeeper's bounded history (said on stderr).
 */
export function makeRunsCommand(): Command {
  return new Command('runs')
    .description('run history, newest first: every run, missed and skipped fire (PostgreSQL with --pg; else the last runs per item kept in ZooKeeper)')
    .argument('[job]', 'job name (all jobs when absent)')
    .option('--item <n>', 'only this item', integerOption('--item', 0))
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(RUN_OUTCOMES))
    .option('--since <when>', 'fires at or after: a duration back from now (15m, 1h, 7d) or an ISO time', timeOption('--since', true))
    .option('--until <when>', 'fires before this ISO time', timeOption('--until', false))
    .option('--limit <n>', 'at most this many rows', integerOption('--limit', 1, 100_000), DEFAULT_RUN_LIMIT)
    .action(async (job: string | undefined, flags: RunsFlags, cmd: Command) => {
      const filter: RunFilter = { job, item: flags.item, outcome: flags.outcome, since: flags.since, until: flags.until, limit: flags.limit };
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const url = pgUrlOf(cmd);
      let rows: RunRow[];
      if (url) rows = await withHistoryDb(url, (db) => queryRuns(db, filter));
      else {
        process.stderr.write(`note: no history database (--pg or ZKSHARD_PG_URL): showing ZooKeeper's bounded history (the last ${RECENT_OUTCOMES} per item, a few seconds behind)\n`);
        if (job !== undefined) checkJobName(job);
        rows = await withZk(cmd, async ({ zk, paths }) => zooKeeperRuns(await new FleetReader(zk, paths).snapshot(filter.job === undefined ? undefined : [filter.job]), filter));
      }
      if (json) printJson(rows);
      else print(renderRuns(rows));
    });
}

export function renderRuns(rows: readonly RunRow[], width = outputWidth()): string {
  if (rows.length === 0) return 'no runs recorded';
  return renderTable(
    ['JOB', 'ITEM', 'FIRE', 'OUTCOME', 'ATTEMPT', 'REASON', 'WORKER', 'TOKEN', 'DURATION', 'ERROR'],
    rows.map((r) => [
      r.job,
      String(r.item),
      formatTime(r.fireTime),
      r.fires > 1 ? `${r.outcome} ×${r.fires}` : r.outcome,
      r.attempt > 0 ? String(r.attempt) : '-',
      r.reason,
      r.worker,
      r.fencingToken ?? '-',
      r.durationMs === null ? '-' : `${r.durationMs} ms`,
      r.error ?? '',
    ]),
    { maxWidth: width, align: ['left', 'right'], shrink: [9, 6, 0] },
  );
}
