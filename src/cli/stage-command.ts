import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { STAGE_DONE_PREFIX } from '../executor/script-runner.js';
import { STAGE_NAME } from '../executor/stage-store.js';
import { ZkshardError } from '../errors/zkshard-error.js';
import { EXIT } from './exit-codes.js';

/**
 * `zkshard stage <name> -- <command> [args...]`, for script jobs: runs the command once per fire.
 * If this fire already completed stage `<name>` (in an earlier attempt, or on a worker that died),
 * the command is skipped; when it exits 0 the stage is recorded. Exits with the command's code.
 */
export function makeStageCommand(): Command {
  return new Command('stage')
    .description('in a script job: run a command as a named stage, once per fire (skipped on re-runs once completed)')
    .argument('<name>', 'stage name')
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .action(async (name: string, rest: string[]) => {
      const command = rest[0] === '--' ? rest.slice(1) : rest;
      if (command.length === 0) throw new ZkshardError('USAGE', 'stage: give the command to run after --');
      if (!STAGE_NAME.test(name)) throw new ZkshardError('USAGE', `stage: name must match ${STAGE_NAME.source}, got ${JSON.stringify(name)}`);
      const inRun = process.env.ZKSHARD_FIRE_ID !== undefined;
      const done = (process.env.ZKSHARD_STAGES_DONE ?? '').split(',').filter(Boolean);
      if (inRun && done.includes(name)) {
        process.stderr.write(`zkshard stage: "${name}" already completed for ${process.env.ZKSHARD_FIRE_ID}: skipped\n`);
        return;
      }
      if (!inRun) process.stderr.write(`zkshard stage: not inside a zkshard script run; running "${name}" without recording it\n`);
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
        child.once('error', (err) => reject(new ZkshardError('STAGE_FAILED', `stage "${name}": cannot run ${JSON.stringify(command[0])}: ${err.message}`)));
        child.once('close', (c, signal) => resolve(c ?? (signal ? EXIT.KILLED : EXIT.FAILED)));
      });
      if (code === 0 && inRun) process.stdout.write(`${STAGE_DONE_PREFIX}${name}\n`);
      process.exitCode = code;
    });
}
