#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { makeWorkerCommand } from './worker-command.js';
import { runCli } from './run-cli.js';

const program = new Command('zkshard')
  .description('zkshard: ZooKeeper-coordinated sharding job scheduler')
  .version(VERSION)
  .addCommand(makeWorkerCommand());

await runCli(program);
