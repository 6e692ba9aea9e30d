import { Command } from 'commander';
import { FleetReader, type JobView } from '../../api/fleet-reader.js';
import { formatItemList } from '../../api/item-list.js';
import { formatTime, print, printJson, renderFields, renderTable, outputWidth } from '../output.js';
import { withZk } from '../zkctl-context.js';

/** `zkctl job <name>`: a job's definition and, per item, owner, parameter, run state, last and next fire. */
export function makeJobCommand(): Command {
  return new Command('job')
    .description("one job: its definition and, per item, owner, parameter, running or not, last fire and outcome, next fire")
    .argument('<name>', 'job name')
    .option('--history', 'also show each item\'s run history (the last runs, newest first)', false)
    .action(async (name: string, opts: { history: boolean }, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const job = await new FleetReader(zk, paths).job(name);
        if (globals.json) printJson(job);
        else print(opts.history ? `${renderJob(job)}\n\n${renderHistory(job)}` : renderJob(job));
      });
    });
}

/** Each item's run history: fire, outcome, attempt, worker, start, end, duration, error. */
export function renderHistory(j: JobView, width = outputWidth()): string {
  const rows = j.items.flatMap((i) =>
    i.history.map((h) => [
      String(i.item),
      formatTime(h.fireTime),
      h.outcome,
      h.attempt > 0 ? String(h.attempt) : '-',
      h.worker,
      formatTime(h.startedAt),
      formatTime(h.at),
      h.durationMs === undefined ? '-' : `${h.durationMs} ms`,
      h.error ?? '',
    ]),
  );
  if (rows.length === 0) return 'history: no runs recorded yet';
  return `history (newest first per item):\n${renderTable(['ITEM', 'FIRE', 'OUTCOME', 'ATTEMPT', 'WORKER', 'STARTED', 'ENDED', 'DURATION', 'ERROR'], rows, { maxWidth: width, align: ['right'] })}`;
}

export function renderJob(j: JobView, width = outputWidth()): string {
  const d = j.definition;
  const pins = Object.entries(j.pins);
  const disabledItems = j.items.filter((i) => i.disabled).map((i) => i.item);
  const fields: Array<[string, string]> = [
    ['job', `${j.name}  (${j.state}${j.state === 'partial' ? `: items ${formatItemList(disabledItems)} disabled` : ''})`],
    ['cron', `${j.cron}  ${j.timeZone}`],
    ['shards', `${j.shards}  strategy ${j.strategy}`],
    // Informational: every worker runs the handler/command of its own file.
    [d.handler !== undefined ? 'handler' : 'command', `${d.handler ?? JSON.stringify(d.command)}  (stored; workers run their own file's)`],
    ['policies', `overlap ${d.overlap}, misfire ${d.misfire}${d.misfire === 'catch-up' ? ` (max ${d.maxCatchUp})` : ''}, failover ${d.failover ? 'on' : 'off'}, timeout ${d.timeoutMs ? `${d.timeoutMs} ms` : 'none'}`],
    ['retry', `${d.retry.attempts} ${d.retry.attempts === 1 ? 'attempt' : 'attempts'}, backoff ${d.retry.backoffMs} ms (max ${d.retry.maxBackoffMs} ms)`],
  ];
  if (d.jobParameter) fields.push(['parameter', d.jobParameter]);
  if (d.description) fields.push(['description', d.description]);
  if (pins.length > 0) fields.push(['pins', pins.map(([i, w]) => `${i}→${w}`).join(' ')]);
  fields.push(['assignment', j.generation === null ? 'none yet' : `generation ${j.generation}`]);
  fields.push(['version', String(j.version)]);
  if (j.codeMismatch.length > 0) fields.push(['code differs', `${j.codeMismatch.map((m) => m.worker).join(', ')}: own file names another handler/command (runs its own)`]);
  for (const problem of j.problems) fields.push(['malformed', problem]);
  const table = renderTable(
    ['ITEM', 'PARAMETER', 'OWNER', 'RUNNING', 'LAST FIRE', 'OUTCOME', 'NEXT FIRE'],
    j.items.map((i) => [
      String(i.item),
      i.parameter ?? '-',
      i.owner === null ? '-' : `${i.owner}${i.ownerLive ? '' : ' (gone)'}${i.pinnedTo === i.owner ? ' (pin)' : ''}`,
      i.running ? (i.runningOn ?? 'yes') : '-',
      formatTime(i.lastFire),
      i.lastOutcome ?? '-',
      i.disabled ? 'disabled' : formatTime(i.nextFire),
    ]),
    { maxWidth: width, align: ['right', 'left', 'left', 'left', 'left', 'left', 'left'] },
  );
  return `${renderFields(fields, width)}\n\n${table}`;
}
