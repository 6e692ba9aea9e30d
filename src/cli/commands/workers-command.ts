import { Command } from 'commander';
import { FleetReader, type WorkerView } from '../../api/fleet-reader.js';
import { formatItemList } from '../../api/item-list.js';
import { formatDuration, formatLabels, print, printJson, renderFields, renderTable, outputWidth } from '../output.js';
import { withZk } from '../zkctl-context.js';

/** `zkctl workers [id]`: the live workers. */
export function makeWorkersCommand(): Command {
  return new Command('workers')
    .description('live workers: id, host, pid, leader, state, items owned and running per job, labels, capacity, uptime')
    .argument('[worker-id]', 'show only this worker (exit 3 when it is not live)')
    .action(async (id: string | undefined, _opts: unknown, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const workers = await new FleetReader(zk, paths).workers(id);
        if (globals.json) printJson(workers);
        else print(id === undefined ? renderWorkers(workers) : workers.map((w) => renderWorker(w)).join('\n\n'));
      });
    });
}

/** `job:0-2,5 other:1`, or `-`. */
function perJob(items: Record<string, number[]>): string {
  const parts = Object.entries(items).filter(([, list]) => list.length > 0).map(([job, list]) => `${job}:${formatItemList(list)}`);
  return parts.length === 0 ? '-' : parts.join(' ');
}

/** The workers table; RUNNING counts the items running now (`zkctl workers <id>` and --json list them). */
export function renderWorkers(workers: readonly WorkerView[], width = outputWidth()): string {
  if (workers.length === 0) return 'no live workers';
  return renderTable(
    ['ID', 'HOST', 'PID', 'LEADER', 'STATE', 'ITEMS', 'RUNNING', 'LABELS', 'CAP', 'UPTIME'],
    workers.map((w) => [w.id, w.host, String(w.pid), w.leader ? 'yes' : '-', w.state, perJob(w.items), String(Object.values(w.running).reduce((n, l) => n + l.length, 0)), formatLabels(w.labels), String(w.capacity), formatDuration(w.uptimeMs)]),
    { maxWidth: width, align: ['left', 'left', 'right', 'left', 'left', 'left', 'right', 'left', 'right', 'right'], shrink: [7, 1] },
  );
}

/** One worker in full (`zkctl workers <id>`): nothing truncated but to the width. */
export function renderWorker(w: WorkerView, width = outputWidth()): string {
  const perJobLines = (items: Record<string, number[]>) => Object.entries(items).map(([job, list]) => `${job}: ${formatItemList(list) || '-'}`).join('; ') || '-';
  return renderFields([
    ['worker', `${w.id}${w.leader ? '  (leader)' : ''}`],
    ['member', `${w.member}  (sequence ${w.sequence})`],
    ['state', `${w.state}${w.drainRequested ? '  (drain requested)' : ''}`],
    ['host', `${w.host}  pid ${w.pid}`],
    ['items', perJobLines(w.items)],
    ['running', perJobLines(w.running)],
    ['labels', formatLabels(w.labels)],
    ['capacity', String(w.capacity)],
    ['uptime', `${formatDuration(w.uptimeMs)}  (since ${w.startedAt})`],
    ['version', w.version || '-'],
  ], width);
}
