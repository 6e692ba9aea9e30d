import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../errors/config-error.js';
import { EXIT, exitCodeOf } from './exit-codes.js';

/**
 * Runs a commander program and turns every failure into one clear stderr message and the exit
 * code the CLI contract names. Usage errors from commander exit 2.
 */
export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
    cmd.commands.forEach(configure);
  };
  configure(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(EXIT.OK);
      process.exit(EXIT.USAGE);
    }
    if (err instanceof ConfigError) process.stderr.write(`error: ${err.message}\n`);
    else process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(exitCodeOf(err));
  }
}
