import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { print, printJson } from '../output.js';
import { integerOption, withZk } from '../zkctl-context.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

function make(name: 'disable' | 'enable'): Command {
  const disabling = name === 'disable';
  return addWaitOptions(
    new Command(name)
      .description(disabling ? 'stop a job (or one item) from firing; running items finish' : 'let a disabled job (or item) fire again')
      .argument('<job>', 'job name')
      .option('--item <n>', 'only this item', integerOption('--item', 0)),
  ).action(async (job: string, opts: WaitFlags & { item?: number }, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      if (disabling) await ops.disable(job, opts.item);
      else await ops.enable(job, opts.item);
      if (opts.wait) {
        await ops.waitForAssignment(job, (a) => {
          const off = new Set(a.disabled ?? []);
          const items = opts.item === undefined ? Array.from({ length: a.shards }, (_, i) => i) : [opts.item];
          return opts.item === undefined && !disabling ? off.size < a.shards : items.every((i) => off.has(i) === disabling);
        }, { timeoutMs: timeoutMs(opts) });
      }
      const what = opts.item === undefined ? `job ${job}` : `item ${opts.item} of ${job}`;
      if (globals.json) printJson({ job, item: opts.item ?? null, disabled: disabling });
      else print(`${what} ${disabling ? 'disabled' : 'enabled'}`);
    });
  });
}

/** `zkctl disable <job> [--item N]` */
export const makeDisableCommand = (): Command => make('disable');
/** `zkctl enable <job> [--item N]` */
export const makeEnableCommand = (): Command => make('enable');
