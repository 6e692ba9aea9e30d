import { Command } from 'commander';
import { FleetOperator } from '../../api/fleet-operator.js';
import { print, printJson } from '../output.js';
import { withZk } from '../zkctl-context.js';
import { addWaitOptions, timeoutMs, type WaitFlags } from './operator-options.js';

/** `zkctl drain <worker> [--no-wait]`: move every item off a worker and wait for its runs. */
export function makeDrainCommand(): Command {
  return addWaitOptions(
    new Command('drain')
      .description('move every item off a worker, wait until its running items finished, report')
      .argument('<worker>', 'worker id'),
  ).action(async (worker: string, opts: WaitFlags, cmd: Command) => {
    await withZk(cmd, async ({ zk, paths, globals }) => {
      const ops = new FleetOperator(zk, paths);
      const started = Date.now();
      const owned = await ops.drain(worker);
      if (opts.wait) await ops.waitForDrain(worker, { timeoutMs: timeoutMs(opts) });
      const moved = Object.values(owned).reduce((n, items) => n + items.length, 0);
      if (globals.json) printJson({ worker, moved: owned, drained: opts.wait, tookMs: Date.now() - started });
      else {
        const detail = Object.entries(owned).map(([job, items]) => `${job} [${items.join(', ')}]`).join('; ');
        print(`${opts.wait ? 'drained' : 'draining'} ${worker}: ${moved} item${moved === 1 ? '' : 's'} moved${detail ? ` (${detail})` : ''}${opts.wait ? `, no runs left, in ${((Date.now() - started) / 1000).toFixed(1)} s` : ''}`);
      }
    });
  });
}

/** `zkctl undrain <worker>` */
export function makeUndrainCommand(): Command {
  return new Command('undrain')
    .description('let a drained worker take items again')
    .argument('<worker>', 'worker id')
    .action(async (worker: string, _opts: unknown, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        await new FleetOperator(zk, paths).undrain(worker);
        if (globals.json) printJson({ worker, drained: false });
        else print(`${worker} takes items again`);
      });
    });
}
