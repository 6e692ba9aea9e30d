import type { Command } from 'commander';
import { secondsOption } from '../zkctl-context.js';

/** `--no-wait` and `--timeout <s>` for commands that wait until the fleet honoured the request. */
export function addWaitOptions(cmd: Command): Command {
  return cmd
    .option('--no-wait', 'return once the request is written, without waiting for the workers')
    .option('--timeout <seconds>', 'how long to wait for the workers', secondsOption('--timeout'), 30);
}

export interface WaitFlags {
  wait: boolean;
  timeout: number;
}

export const timeoutMs = (flags: WaitFlags): number => Math.round(flags.timeout * 1000);
