#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { runCli } from './run-cli.js';
import { EXIT } from './exit-codes.js';
import { addGlobalOptions } from './zkctl-context.js';
import { makeStatusCommand } from './commands/status-command.js';
import { makeWorkersCommand } from './commands/workers-command.js';
import { makeJobsCommand } from './commands/jobs-command.js';
import { makeJobCommand } from './commands/job-command.js';
import { makeApplyCommand } from './commands/apply-command.js';
import { makeRemoveCommand } from './commands/remove-command.js';
import { makeTreeCommand } from './commands/tree-command.js';
import { makeWatchCommand } from './commands/watch-command.js';
import { makeDoctorCommand } from './commands/doctor-command.js';
import { makeReshardCommand } from './commands/reshard-command.js';
import { makeRebalanceCommand } from './commands/rebalance-command.js';
import { makeMoveCommand, makeUnpinCommand } from './commands/move-command.js';
import { makeDrainCommand, makeUndrainCommand } from './commands/drain-command.js';
import { makeDisableCommand, makeEnableCommand } from './commands/disable-command.js';
import { makeTriggerCommand } from './commands/trigger-command.js';
import { makeAclCommand } from './commands/acl-command.js';
import { makeRunsCommand } from './commands/runs-command.js';
import { makeAuditCommand } from './commands/audit-command.js';

// zkctl: the operator CLI. Each command lives in commands/<name>-command.ts over the API in
// src/api/; adding one is one import and one `.addCommand(...)` line. Exit codes: cli/exit-codes.ts.
const program = addGlobalOptions(
  new Command('zkctl')
    .description('zkctl: inspect and operate a zkshard fleet (docs/ZKCTL.md)')
    .version(VERSION),
)
  .addCommand(makeStatusCommand())
  .addCommand(makeWorkersCommand())
  .addCommand(makeJobsCommand())
  .addCommand(makeJobCommand())
  .addCommand(makeApplyCommand())
  .addCommand(makeRemoveCommand())
  .addCommand(makeReshardCommand())
  .addCommand(makeRebalanceCommand())
  .addCommand(makeMoveCommand())
  .addCommand(makeUnpinCommand())
  .addCommand(makeDrainCommand())
  .addCommand(makeUndrainCommand())
  .addCommand(makeDisableCommand())
  .addCommand(makeEnableCommand())
  .addCommand(makeTriggerCommand())
  .addCommand(makeTreeCommand())
  .addCommand(makeWatchCommand())
  .addCommand(makeDoctorCommand())
  .addCommand(makeAclCommand())
  .addCommand(makeRunsCommand())
  .addCommand(makeAuditCommand());

await runCli(program);
process.exit(process.exitCode ?? EXIT.OK);
