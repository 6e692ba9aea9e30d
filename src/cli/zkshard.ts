#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { makeWorkerCommand } from './worker-command.js';
import { makeStageCommand } from './stage-command.js';
import { makeHistoryCommand } from './history-command.js';
import { makeConsoleCommand } from './console-command.js';
import { runCli } from './run-cli.js';

const program = new Command('zkshard')
  .description('zkshard: ZooKeeper-coordinated sharding job scheduler')
  .version(VERSION)
  .enablePositionalOptions()
  .addCommand(makeWorkerCommand())
  .addCommand(makeStageCommand())
  .addCommand(makeHistoryCommand())
  .addCommand(makeConsoleCommand());

// No process.exit here: `worker` and `console` keep running after their action returns; `stage` sets exitCode.
await runCli(program);
