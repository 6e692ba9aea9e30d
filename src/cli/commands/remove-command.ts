import { Command } from 'commander';
import { JobAdmin, type RemoveResult } from '../../api/job-admin.js';
import { formatItemList } from '../../api/item-list.js';
import { print, printJson } from '../output.js';
import { withZk } from '../zkctl-context.js';

/** `zkctl remove <job> [--force] [--dry-run]`: delete a job's definition and everything under it. */
export function makeRemoveCommand(): Command {
  return new Command('remove')
    .description('delete a job (definition, assignment, control, items, stages, triggers) in one transaction; refused while items run unless --force')
    .argument('<job>', 'job name')
    .option('--force', 'remove even while items run (their runs are no longer recorded)', false)
    .option('--dry-run', 'show what would be removed, write nothing', false)
    .action(async (job: string, opts: { force: boolean; dryRun: boolean }, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const result = await new JobAdmin(zk, paths).remove(job, { force: opts.force, dryRun: opts.dryRun });
        if (globals.json) printJson(result);
        else print(renderRemove(result));
      });
    });
}

export function renderRemove(r: RemoveResult): string {
  const running = r.running.length > 0 ? ` (items ${formatItemList(r.running.map((x) => x.item))} were running: forced)` : '';
  return r.dryRun
    ? `dry run: would remove job ${r.job}: ${r.removed.length} znodes${r.running.length > 0 ? `, items ${formatItemList(r.running.map((x) => x.item))} running` : ''}; nothing written`
    : `removed job ${r.job}: ${r.removed.length} znodes${running}`;
}
