import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { print, printJson } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

/** `zkctl trigger <job> [--item N] [--no-wait]`: run now, once, on the owners. */
export function makeTriggerCommand(): Command {
  return addWaitOptions(
    new Command('trigger')
      .description('run a job (or one item) now, once, on the workers that own its items')
      .argument('<job>', 'job name')
      .option('--item <n>', 'only this item', integerOption('--item', 0)),
  ).action(async (job: string, opts: WaitFlags & { item?: number }, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      const trigger = await ops.trigger(job, opts.item);
      if (opts.wait) await ops.waitForTrigger(job, trigger, { timeoutMs: timeoutMs(opts) });
      if (globals.json) printJson({ job, items: trigger.items, fireTime: trigger.fireTime.toISOString(), started: opts.wait });
      else print(`triggered ${job} items [${trigger.items.join(', ')}] at ${trigger.fireTime.toISOString()}${opts.wait ? ': started on their owners' : ''}`);
    });
  });
}
