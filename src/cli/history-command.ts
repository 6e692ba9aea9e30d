import { Command } from 'commander';
import { loadWorkerConfig } from '../config/load-worker-config.js';
import { PG_URL_ENV } from '../config/history-config.js';
import { redactUrl } from '../config/postgres-url.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { pgOption, pgUrlOf, withHistoryDb } from './pg-option.js';

/** `zkshard history migrate [--pg <url> | --config <file>]`: brings the history schema up to date. */
export function makeHistoryCommand(): Command {
  return new Command('history').description('the run history in PostgreSQL').addCommand(
    new Command('migrate')
      .description('apply the history schema migrations (under an advisory lock; workers also do it at start)')
      .addOption(pgOption())
      .option('-c, --config <file>', "take the database from a worker config's history.postgresUrl")
      .action(async (opts: { config?: string }, cmd: Command) => {
        const url = pgUrlOf(cmd) ?? (opts.config ? (await loadWorkerConfig(opts.config)).history?.postgresUrl : undefined);
        if (!url) throw new ZkshardError('USAGE', `no history database: pass --pg <url>, set ${PG_URL_ENV}, or --config a worker file with history.postgresUrl`);
        const { SCHEMA_VERSION } = await import('../history/migrations.js');
        await withHistoryDb(url, async (_db, applied) => {
          process.stdout.write(`${redactUrl(url)}: history schema at version ${SCHEMA_VERSION}${applied.length > 0 ? ` (applied ${applied.join(', ')})` : ' (already current)'}\n`);
        });
      }),
  );
}
