import { Command } from 'commander';
import { JobAdmin, type ApplyResult } from '../../api/job-admin.js';
import { readJobFile } from '../../api/job-file.js';
import { formatValue, print, printJson, truncate, outputWidth } from '../output.js';
import { globalsOf, withZk } from '../zkctl-context.js';

/** `zkctl apply -f <file> [--dry-run]`: create or update job definitions from YAML. */
export function makeApplyCommand(): Command {
  return new Command('apply')
    .description('create or update job definitions from a YAML file (the worker config job schema), in one transaction')
    .requiredOption('-f, --file <file>', 'YAML file: a list of jobs, a mapping with "jobs:" (a worker config works), or one job')
    .option('--dry-run', 'show the changes, write nothing', false)
    .action(async (opts: { file: string; dryRun: boolean }, cmd: Command) => {
      globalsOf(cmd); // bad flags fail before the file is read
      const defs = await readJobFile(opts.file); // a bad file fails before connecting: nothing is written
      await withZk(cmd, async ({ zk, paths, globals }) => {
        const result = await new JobAdmin(zk, paths).apply(defs, { dryRun: opts.dryRun });
        if (globals.json) printJson(result);
        else print(renderApply(result));
      });
    });
}

export function renderApply(r: ApplyResult, width = outputWidth()): string {
  const nameWidth = Math.max(...r.jobs.map((j) => j.name.length));
  const lines: string[] = [];
  for (const j of r.jobs) {
    const note = j.action === 'updated' ? (j.changed.length > 0 ? j.changed.join(', ') : 'item nodes restored') : '';
    lines.push(truncate(`${j.action.padEnd(9)}  ${j.name.padEnd(nameWidth)}  ${note}`.trimEnd(), width));
    const keyWidth = Math.max(0, ...j.changed.map((k) => k.length));
    if (j.action === 'updated') {
      for (const key of j.changed) {
        const c = j.changes[key]!;
        lines.push(truncate(`             ${key.padEnd(keyWidth)}  ${formatValue(c.from)} → ${formatValue(c.to)}`, width));
      }
    }
    if (j.storedProblem !== undefined) lines.push(truncate(`             the stored definition did not decode (${j.storedProblem}); replaced whole`, width));
    if (j.codeKept) lines.push(truncate(`             code not changed: keeps ${j.codeKept.stored} (the file says ${j.codeKept.file}); workers run the code of their own files`, width));
  }
  const count = (a: string) => r.jobs.filter((j) => j.action === a).length;
  const summary = `${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`;
  lines.push(r.dryRun ? `dry run: ${summary}; nothing written` : r.written ? `applied: ${summary}` : `nothing to apply: ${summary}`);
  return lines.join('\n');
}
