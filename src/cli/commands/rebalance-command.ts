import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { print, printJson } from '../output.js';
import { withZk } from '../zkctl-context.js';
import { renderChanges } from './assignment-change-view.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

/** `zkctl rebalance [--dry-run] [--no-wait]` */
export function makeRebalanceCommand(): Command {
  return addWaitOptions(
    new Command('rebalance')
      .description('make the leader recompute every assignment now; shows what moves first')
      .option('--dry-run', 'show the plan, write nothing', false),
  ).action(async (opts: WaitFlags & { dryRun: boolean }, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      const changes = await ops.rebalance({ dryRun: opts.dryRun });
      if (!opts.dryRun && opts.wait) await ops.waitForPlan(changes, { timeoutMs: timeoutMs(opts) });
      if (globals.json) printJson({ applied: !opts.dryRun, jobs: changes });
      else print(changes.length === 0 ? 'no jobs' : renderChanges(changes, !opts.dryRun));
    });
  });
}
