import { Command } from 'commander';
import { FleetReader, type JobSummary } from '../../api/fleet-reader.js';
import { formatRelative, print, printJson, renderTable, outputWidth } from '../output.js';
import { withZk } from '../zkctl-context.js';

/** `zkctl jobs`: every job with its schedule and items. */
export function makeJobsCommand(): Command {
  return new Command('jobs')
    .description('every job: state, schedule, items owned and running, last and next fire')
    .action(async (_opts: unknown, cmd: Command) => {
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const jobs = await new FleetReader(zk, paths).jobs();
        if (globals.json) printJson(jobs);
        else print(renderJobs(jobs));
      });
    });
}

export function renderJobs(jobs: readonly JobSummary[], width = outputWidth(), now = Date.now()): string {
  if (jobs.length === 0) return 'no jobs';
  return renderTable(
    ['JOB', 'STATE', 'CRON', 'SHARDS', 'OWNED', 'RUNNING', 'WORKERS', 'LAST FIRE', 'NEXT FIRE'],
    jobs.map((j) => [j.name, j.state, j.cron ?? '-', String(j.shards), String(j.owned), String(j.running.length), String(j.workers.length), formatRelative(j.lastFire, now), formatRelative(j.nextFire, now)]),
    { maxWidth: width, align: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'], shrink: [2, 0] },
  );
}
