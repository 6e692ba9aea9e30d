import { Command } from 'commander';
import { FleetReader, type FleetStatus } from '../../api/fleet-reader.js';
import { formatItemList } from '../../api/item-list.js';
import { formatRelative, print, printJson, renderFields, renderTable, wrap, outputWidth } from '../output.js';
import { withZk } from '../zkctl-context.js';

/** `zkctl status`: leader, workers, jobs, items without an owner, warnings. */
export function makeStatusCommand(): Command {
  return new Command('status')
    .description('overview: leader, workers, jobs, items without an owner, warnings (clock skew, owners gone, stale runs in flight)')
    .action(async (_opts: unknown, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const status = await new FleetReader(zk, paths).status();
        if (globals.json) printJson(status);
        else print(renderStatus(status));
      });
    });
}

/** The human form of `zkctl status` (also the frame of `zkctl watch` on a terminal). */
export function renderStatus(s: FleetStatus, width = outputWidth()): string {
  const now = Date.parse(s.readAt);
  const clock = s.clock ? `clock ${s.clock.skewMs >= 0 ? '+' : ''}${s.clock.skewMs} ms ±${s.clock.uncertaintyMs}` : 'clock not measured';
  const disabled = s.jobs.filter((j) => j.state === 'disabled').length;
  const partial = s.jobs.filter((j) => j.state === 'partial').length;
  const header = renderFields([
    ['namespace', `${s.namespace}  (ZooKeeper ${s.zookeeper}, ${clock})`],
    ['leader', s.leader ? `${s.leader.id} (${s.leader.member})` : 'none: no live worker'],
    ['workers', `${s.workers.total} live: ${s.workers.active} active, ${s.workers.draining} draining`],
    ['jobs', `${s.jobs.length}: ${s.jobs.length - disabled - partial} enabled, ${partial} partly disabled, ${disabled} disabled`],
  ], width);
  const parts = [header];
  if (s.jobs.length > 0) {
    parts.push(renderTable(
      ['JOB', 'STATE', 'SHARDS', 'OWNED', 'RUNNING', 'UNOWNED', 'LAST FIRE', 'NEXT FIRE'],
      s.jobs.map((j) => [j.name, j.state, String(j.shards), String(j.owned), String(j.running.length), formatItemList(j.unowned) || '-', formatRelative(j.lastFire, now), formatRelative(j.nextFire, now)]),
      { maxWidth: width, align: ['left', 'left', 'right', 'right', 'right', 'left', 'right', 'right'], shrink: [5, 0] },
    ));
  }
  parts.push(s.unowned.length === 0
    ? 'items without an owner: none'
    : ['items without an owner:', ...s.unowned.map((u) => wrap(`  ${u.job}: ${formatItemList(u.items)}`, width, 4))].join('\n'));
  parts.push(s.warnings.length === 0
    ? 'warnings: none'
    : ['warnings:', ...s.warnings.map((w) => wrap(`  ${w.kind.padEnd(14)} ${w.message}`, width, 17))].join('\n'));
  return parts.join('\n\n');
}
