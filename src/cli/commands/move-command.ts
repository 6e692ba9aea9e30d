import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { print, printJson } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

/** `zkctl move <job> <item> --to <worker> [--no-wait]`: pins an item to a worker. */
export function makeMoveCommand(): Command {
  return addWaitOptions(
    new Command('move')
      .description('pin an item to a worker (it stays there until unpinned or the worker leaves)')
      .argument('<job>', 'job name')
      .argument('<item>', 'item number', integerOption('<item>', 0))
      .requiredOption('--to <worker>', 'worker id'),
  ).action(async (job: string, item: number, opts: WaitFlags & { to: string }, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      await ops.move(job, item, opts.to);
      if (opts.wait) await ops.waitForAssignment(job, (a) => a.owners[item] !== null && a.workers[a.owners[item]!] === opts.to, { timeoutMs: timeoutMs(opts) });
      if (globals.json) printJson({ job, item, pinnedTo: opts.to, applied: opts.wait });
      else print(`item ${item} of ${job} pinned to ${opts.to}${opts.wait ? ' and now assigned there' : ' (not waiting for the leader)'}`);
    });
  });
}

/** `zkctl unpin <job> <item>` */
export function makeUnpinCommand(): Command {
  return new Command('unpin')
    .description('release the pin of an item (it stays where it is until a rebalance moves it)')
    .argument('<job>', 'job name')
    .argument('<item>', 'item number', integerOption('<item>', 0))
    .action(async (job: string, item: number, _opts: unknown, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        await new FleetOperator(zk, paths).unpin(job, item);
        if (globals.json) printJson({ job, item, pinned: false });
        else print(`item ${item} of ${job} unpinned`);
      });
    });
}
