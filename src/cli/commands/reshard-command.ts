import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { MAX_SHARDS } from '../../config/job-definition.js';
import { print, printJson } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { renderChanges } from './assignment-change-view.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

/** `zkctl reshard <job> --shards N [--dry-run] [--force] [--no-wait]` */
export function makeReshardCommand(): Command {
  return addWaitOptions(
    new Command('reshard')
      .description('change the number of items of a job; shows the assignment before and after first')
      .argument('<job>', 'job name')
      .requiredOption('--shards <n>', 'the new number of items', integerOption('--shards', 1, MAX_SHARDS))
      .option('--dry-run', 'show the change, write nothing', false)
      .option('--force', 'remove items that are running now (their runs are no longer recorded)', false),
  ).action(async (job: string, opts: WaitFlags & { shards: number; dryRun: boolean; force: boolean }, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      const change = await ops.reshard(job, opts.shards, { dryRun: opts.dryRun, force: opts.force });
      if (!opts.dryRun && opts.wait) await ops.waitForPlan([change], { timeoutMs: timeoutMs(opts) });
      if (globals.json) printJson({ ...change, applied: !opts.dryRun });
      else print(renderChanges([change], !opts.dryRun));
    });
  });
}
